from dataclasses import replace

import pytest

from simulators.bridges.dis import (
    ArticulatedPart,
    DetonationPDU,
    DISError,
    EntityStatePDU,
    EntityType,
    ExpendableDescriptor,
    ExplosionDescriptor,
    FirePDU,
    MunitionDescriptor,
    OtherParameter,
    OtherPDU,
    build_pdu,
    engagement_of,
    parse_pdu,
    split_datagram,
)

# Written out field by field from IEEE 1278.1-2012's layouts, not produced by the codec.
FIRE_HEX = (
    "07" "01" "02" "02" "00000002" "0060" "00" "00"       # v7, exercise 1, Fire, warfare, t, 96
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
    "07" "01" "03" "02" "01000002" "0068" "00" "00"       # Detonation, 104 bytes, t = 2**24+2
    "0001" "0002" "0003" "0001" "0002" "0063" "0001" "0002" "0100" "0001" "0002" "002a"
    "42c80000" "00000000" "00000000"                      # velocity
    "4150000000000000" "4140000000000000" "4130000000000000"  # location
    "02" "02" "00e1" "01" "02" "03" "00" "03e8" "0064" "0001" "0000"  # burst, quantity 1
    "00000000" "00000000" "00000000"                      # location in entity coordinates
    "01" "00" "0000"                                      # result 1 entity impact, 0 params
)
# A VR-Forces-style non-munition explosion: PDU status 0x20 is Detonation Type Indicator 2.
# Read as a munition descriptor its material and force become "quantity 16,988".
EXPLOSION_HEX = (
    "07" "01" "03" "02" "01000002" "0078" "20" "00"       # 120 bytes, status: explosion
    "0001" "0002" "0003" "0001" "0002" "0063" "0001" "0002" "0005" "0001" "0002" "002b"
    "00000000" "00000000" "c2480000"                      # velocity 0, 0, -50 m/s
    "4150000000000000" "4140000000000000" "4130000000000000"
    "01" "02" "0066" "01" "03" "00" "00"                  # exploding object: platform, air
    "025a" "0000" "425c0000"                              # material 602, padding, 55 kg TNT
    "00000000" "00000000" "00000000"
    "01" "01" "0000"                                      # entity impact, 1 variable parameter
    "00" "01" "0000" "0000100b" "3f000000" "00000000"     # articulated part: azimuth 0.5 rad
)
EXPENDABLE_HEX = (
    "07" "01" "03" "02" "01000002" "0068" "10" "00"       # status 0x10: expendable
    "0001" "0002" "0003" "0000" "0000" "0000" "0001" "0002" "0006" "0001" "0002" "002c"
    "00000000" "00000000" "00000000"
    "4150000000000000" "4140000000000000" "4130000000000000"
    "03" "02" "00e1" "01" "02" "00" "00" "0000000000000000"   # chaff, 64 bits of padding
    "00000000" "00000000" "00000000"
    "05" "00" "0000"                                      # result 5 detonation
)
ENTITY_STATE_HEX = (
    "07" "01" "01" "01" "00000010" "00a0" "02" "00"       # ES, 160 bytes, status: LVC live
    "0001" "0002" "0005"                                  # entity 1:2:5
    "02" "01"                                             # force opposing, 1 variable parameter
    "01" "02" "0066" "01" "03" "00" "00"                  # type 1.2.102.1.3.0.0
    "00" "00" "0000" "00" "00" "00" "00"                  # alternative type
    "42c80000" "00000000" "c2480000"                      # velocity 100, 0, -50 m/s
    "4146e36000000000" "4140000000000000" "4130000000000000"  # location 3e6, 2097152, 1048576
    "3fc00000" "3e800000" "00000000"                      # psi 1.5, theta 0.25, phi 0 rad
    "00010000"                                            # appearance
    "02" "000000000000000000000000000000"                 # dead reckoning: FPW, 15 bytes
    "00000000" "00000000" "00000000" "00000000" "00000000" "3f000000"  # accel, yaw rate 0.5
    "01" "5348414845442037000000"                         # ASCII marking "SHAHED 7"
    "00000000"                                            # capabilities
    "03" "01" "0102006601030000" "0000" "00000000"        # entity type record
)


def pdu(hex_text: str) -> object:
    return parse_pdu(bytes.fromhex(hex_text))


@pytest.mark.parametrize("hex_text", [FIRE_HEX, DETONATION_HEX, EXPLOSION_HEX,
                                      EXPENDABLE_HEX, ENTITY_STATE_HEX])
def test_every_pdu_read_builds_back_byte_for_byte(hex_text: str) -> None:
    assert build_pdu(pdu(hex_text)) == bytes.fromhex(hex_text)  # type: ignore[arg-type]


def test_fire_pdu_parses_field_by_field() -> None:
    fire = pdu(FIRE_HEX)
    assert isinstance(fire, FirePDU) and isinstance(fire.descriptor, MunitionDescriptor)
    assert (fire.header.exercise_id, fire.header.length, fire.header.status) == (1, 96, 0)
    assert (fire.firing_entity, fire.target_entity, fire.event) == (
        (1, 2, 3), (1, 2, 99), (1, 2, 42))
    assert fire.location == (4194304.0, 2097152.0, 1048576.0)
    assert (fire.descriptor.munition.country, fire.descriptor.quantity, fire.range_m) == (
        225, 2, 2000.0)


def test_detonation_becomes_an_engagement() -> None:
    fire, detonation = pdu(FIRE_HEX), pdu(DETONATION_HEX)
    assert isinstance(detonation, DetonationPDU) and isinstance(fire, FirePDU)
    assert detonation.result == 1 and detonation.velocity == (100.0, 0.0, 0.0)
    row = engagement_of(detonation, fire, threat_kind="shahed_136",
                        threat_cost_cents=3_500_000)
    assert row is not None
    assert (row["outcome"], row["interceptors_used"], row["result_name"]) == (
        "intercept", 2, "entity impact")
    # 2**23 time units at 2**31 an hour
    assert row["time_to_intercept_s"] == pytest.approx(3600 * 2**23 / 2**31)


def test_explosion_descriptor_is_material_and_force_not_a_munition_quantity() -> None:
    detonation = pdu(EXPLOSION_HEX)
    assert isinstance(detonation, DetonationPDU)
    assert detonation.descriptor == ExplosionDescriptor(
        EntityType(1, 2, 102, 1, 3, 0, 0), explosive_material=602, explosive_force=55.0)
    assert detonation.variable_parameters == (
        ArticulatedPart(change_indicator=1, attached_to=0, parameter_type=4107, value=0.5),)
    row = engagement_of(detonation, None, threat_kind="shahed_136", threat_cost_cents=1)
    assert row is not None and (row["interceptors_used"], row["outcome"]) == (1, "intercept")


def test_an_explosion_after_a_known_munition_fire_counts_the_fire_burst() -> None:
    detonation = pdu(EXPLOSION_HEX)
    assert isinstance(detonation, DetonationPDU)
    row = engagement_of(detonation, pdu(FIRE_HEX),  # type: ignore[arg-type]
                        threat_kind="shahed_136", threat_cost_cents=1)
    assert row is not None and row["interceptors_used"] == 2


def test_expendable_burst_is_its_type_only_and_no_engagement() -> None:
    detonation = pdu(EXPENDABLE_HEX)
    assert isinstance(detonation, DetonationPDU)
    assert detonation.descriptor == ExpendableDescriptor(EntityType(3, 2, 225, 1, 2, 0, 0))
    assert engagement_of(detonation, None, threat_kind="shahed_136",
                         threat_cost_cents=1) is None


def test_dis6_status_byte_is_padding_so_the_descriptor_is_a_munition() -> None:
    data = bytearray(bytes.fromhex(EXPLOSION_HEX))
    data[0] = 6
    detonation = parse_pdu(bytes(data))
    assert isinstance(detonation, DetonationPDU)
    assert isinstance(detonation.descriptor, MunitionDescriptor)
    assert build_pdu(detonation) == bytes(data)


def test_entity_state_parses_field_by_field() -> None:
    state = pdu(ENTITY_STATE_HEX)
    assert isinstance(state, EntityStatePDU)
    assert (state.entity, state.force_id, str(state.entity_type)) == (
        (1, 2, 5), 2, "1.2.102.1.3.0.0")
    assert state.velocity == (100.0, 0.0, -50.0)
    assert state.location == (3.0e6, 2097152.0, 1048576.0)
    assert state.orientation == (1.5, 0.25, 0.0)
    assert (state.dead_reckoning.algorithm, state.dead_reckoning.angular_velocity) == (
        2, (0.0, 0.0, 0.5))
    assert state.marking.rstrip(b"\0") == b"SHAHED 7" and state.header.status == 2
    [record] = state.variable_parameters
    assert record.entity_type == EntityType(1, 2, 102, 1, 3, 0, 0)  # type: ignore[union-attr]


def test_other_pdu_types_are_well_formed_pdus_kept_whole() -> None:
    transmitter = bytes.fromhex("07" "01" "19" "04" "00000000" "0010" "00" "00" "0001000a")
    other = parse_pdu(transmitter)
    assert isinstance(other, OtherPDU) and other.header.pdu_type == 25
    assert build_pdu(other) == transmitter


def test_unknown_variable_parameter_records_are_kept_whole() -> None:
    separation = "02" + "01" * 15
    data = bytearray(bytes.fromhex(EXPLOSION_HEX))
    data[-16:] = bytes.fromhex(separation)
    detonation = parse_pdu(bytes(data))
    assert isinstance(detonation, DetonationPDU)
    assert detonation.variable_parameters == (OtherParameter(2, b"\x01" * 15),)
    assert build_pdu(detonation) == bytes(data)


def test_builder_sets_the_type_indicator_from_the_descriptor() -> None:
    detonation = pdu(DETONATION_HEX)
    assert isinstance(detonation, DetonationPDU)
    chaff = replace(detonation, descriptor=ExpendableDescriptor(EntityType(3, 2, 0, 1, 0, 0, 0)))
    again = parse_pdu(build_pdu(chaff))
    assert isinstance(again, DetonationPDU) and again.header.status == 0x10
    assert again.descriptor == chaff.descriptor


def test_bundled_pdus_are_split_by_their_lengths() -> None:
    bundle = bytes.fromhex(FIRE_HEX) + bytes.fromhex(DETONATION_HEX)
    assert [len(part) for part in split_datagram(bundle)] == [96, 104]
    with pytest.raises(DISError, match="length field says 104 bytes"):
        split_datagram(bundle[:-1])
    with pytest.raises(DISError, match="says 4 bytes, less than the 12-byte header"):
        split_datagram(bytes.fromhex("07" "01" "02" "02" "00000000" "0004" "0000"))


def _status(hex_text: str, status: int) -> bytes:
    data = bytearray(bytes.fromhex(hex_text))
    data[10] = status
    return bytes(data)


def _cut_parameter(hex_text: str) -> bytes:
    """The PDU without its last variable parameter record, its length field agreeing."""
    data = bytearray(bytes.fromhex(hex_text)[:-16])
    data[8:10] = len(data).to_bytes(2, "big")
    return bytes(data)


@pytest.mark.parametrize("data, message", [
    (b"\x07\x01", "shorter than the 12-byte header"),
    (bytes.fromhex(FIRE_HEX)[:-4], "length field says 96"),
    (bytes.fromhex(FIRE_HEX.replace("0060", "005c", 1))[:-4], "a Fire PDU has 96 bytes"),
    (bytes.fromhex("07" "01" "02" "05" "00000000" "000c" "0000"), "family 5"),
    (bytes.fromhex("2a" "01" "02" "02" "00000000" "000c" "0000"), "protocol version 42"),
    (bytes.fromhex(DETONATION_HEX)[:-3] + b"\x01\x00\x00", "with 1 variable parameters"),
    (_cut_parameter(ENTITY_STATE_HEX), "Entity State PDU with 1 variable parameters has 160"),
    (_status(DETONATION_HEX, 0x30), "type indicator 3 is not defined"),
])
def test_malformed_pdus_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(DISError, match=message):
        parse_pdu(data)
