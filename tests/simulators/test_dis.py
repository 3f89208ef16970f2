import pytest

from simulators.bridges.dis import (
    DetonationPDU,
    DISError,
    FirePDU,
    build_pdu,
    engagement_of,
    parse_pdu,
)

# Written out field by field from IEEE 1278.1's layouts, not produced by the codec.
FIRE_HEX = (
    "07" "01" "02" "02" "00000002" "0060" "0000"          # v7, exercise 1, Fire, warfare, t, 96
    "0001" "0002" "0003"                                  # firing entity 1:2:3
    "0001" "0002" "0063"                                  # target entity 1:2:99
    "0001" "0002" "0100"                                  # munition 1:2:256
    "0001" "0002" "002a"                                  # event 1:2:42
    "00000007"                                            # fire mission index 7
    "4150000000000000" "4140000000000000" "4130000000000000"  # location 4194304, 2097152, 1048576
    "02" "02" "00e1" "01" "02" "03" "00"                  # munition type: munition, air, UA
    "03e8" "0064" "0002" "0000"                           # warhead 1000, fuse 100, qty 2, rate 0
    "42c80000" "00000000" "00000000"                      # velocity 100, 0, 0 m/s
    "44fa0000"                                            # range 2000 m
)
DETONATION_HEX = (
    "07" "01" "03" "02" "01000002" "0068" "0000"          # Detonation, 104 bytes, t = 2**24+2
    "0001" "0002" "0003" "0001" "0002" "0063" "0001" "0002" "0100" "0001" "0002" "002a"
    "42c80000" "00000000" "00000000"                      # velocity
    "4150000000000000" "4140000000000000" "4130000000000000"  # location
    "02" "02" "00e1" "01" "02" "03" "00" "03e8" "0064" "0001" "0000"  # burst, quantity 1
    "00000000" "00000000" "00000000"                      # location in entity coordinates
    "01" "00" "0000"                                      # result 1 entity impact, 0 params
)


def test_fire_pdu_parses_field_by_field() -> None:
    fire = parse_pdu(bytes.fromhex(FIRE_HEX))
    assert isinstance(fire, FirePDU)
    assert (fire.header.exercise_id, fire.header.length) == (1, 96)
    assert (fire.firing_entity, fire.target_entity, fire.event) == (
        (1, 2, 3), (1, 2, 99), (1, 2, 42))
    assert fire.location == (4194304.0, 2097152.0, 1048576.0)
    assert (fire.burst.munition.country, fire.burst.quantity, fire.range_m) == (225, 2, 2000.0)
    assert build_pdu(fire) == bytes.fromhex(FIRE_HEX)


def test_detonation_becomes_an_engagement() -> None:
    fire = parse_pdu(bytes.fromhex(FIRE_HEX))
    detonation = parse_pdu(bytes.fromhex(DETONATION_HEX))
    assert isinstance(detonation, DetonationPDU) and isinstance(fire, FirePDU)
    assert detonation.result == 1 and detonation.velocity == (100.0, 0.0, 0.0)
    assert build_pdu(detonation) == bytes.fromhex(DETONATION_HEX)
    row = engagement_of(detonation, fire, threat_kind="shahed_136",
                        threat_cost_cents=3_500_000)
    assert (row["outcome"], row["interceptors_used"], row["result_name"]) == (
        "intercept", 2, "entity impact")
    # 2**23 time units at 2**31 an hour
    assert row["time_to_intercept_s"] == pytest.approx(3600 * 2**23 / 2**31)


@pytest.mark.parametrize("result, outcome", [(2, "intercept"), (3, "miss"), (6, "miss"),
                                             (0, "miss")])
def test_detonation_results_map_to_outcomes(result: int, outcome: str) -> None:
    data = bytearray(bytes.fromhex(DETONATION_HEX))
    data[100] = result
    detonation = parse_pdu(bytes(data))
    assert isinstance(detonation, DetonationPDU)
    row = engagement_of(detonation, None, threat_kind="fpv_strike", threat_cost_cents=50_000)
    assert row["outcome"] == outcome and row["interceptors_used"] == 1


@pytest.mark.parametrize("data, message", [
    (b"\x07\x01", "shorter than the 12-byte header"),
    (bytes.fromhex(FIRE_HEX)[:-4], "length field says 96"),
    (bytes.fromhex(FIRE_HEX.replace('0060', '005c', 1))[:-4], "a Fire PDU has 96 bytes"),
    (bytes.fromhex("07" "01" "01" "02" "00000000" "000c" "0000"), "neither Fire"),
    (bytes.fromhex("07" "01" "02" "05" "00000000" "000c" "0000"), "family 5"),
    (bytes.fromhex(DETONATION_HEX)[:-3] + b"\x01\x00\x00", "articulation parameter count"),
])
def test_malformed_pdus_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(DISError, match=message):
        parse_pdu(data)
