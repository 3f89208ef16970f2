import asyncio
import socket

from simulators.bridges.dis import DISError
from simulators.bridges.dis_listener import DISBridge, TrackPoint, listen, serve
from tests.simulators.test_dis import (
    DETONATION_HEX,
    ENTITY_STATE_HEX,
    EXPENDABLE_HEX,
    EXPLOSION_HEX,
    FIRE_HEX,
)

TRANSMITTER = bytes.fromhex("07" "01" "19" "04" "00000000" "0010" "00" "00" "0001000a")


def _exercise(hex_text: str, exercise: int) -> bytes:
    data = bytearray(bytes.fromhex(hex_text))
    data[1] = exercise
    return bytes(data)


def _bridge(**callbacks) -> DISBridge:
    return DISBridge(exercise_id=1, threat_kind="shahed_136", threat_cost_cents=3_500_000,
                     **{"record": lambda row: None, **callbacks})


async def _wait_for(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)


async def test_listener_records_detonations_and_survives_garbage() -> None:
    rows: list[dict] = []
    bridge = _bridge(record=rows.append)
    transport = await listen(bridge, "127.0.0.1", 0)
    port = transport.get_extra_info("sockname")[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in (b"junk", bytes.fromhex(FIRE_HEX), _exercise(DETONATION_HEX, 9),
                         bytes.fromhex(DETONATION_HEX)[:50], bytes.fromhex(DETONATION_HEX)):
            sender.sendto(datagram, ("127.0.0.1", port))
        await _wait_for(lambda: bridge.recorded)
    transport.close()
    assert (bridge.malformed, bridge.other_exercises, bridge.recorded) == (2, 1, 1)
    assert rows[0]["outcome"] == "intercept" and rows[0]["interceptors_used"] == 2


def test_valid_pdus_the_bridge_does_not_use_are_ignored_by_type_not_malformed() -> None:
    rows: list[dict] = []
    seen: list[str] = []
    bridge = _bridge(record=rows.append,
                     on_malformed=lambda sender, error: seen.append(str(error)))
    for datagram in (TRANSMITTER, TRANSMITTER, bytes.fromhex(ENTITY_STATE_HEX),
                     bytes.fromhex(EXPENDABLE_HEX), bytes.fromhex(EXPLOSION_HEX),
                     bytes.fromhex(FIRE_HEX)[:-1]):
        bridge.datagram(datagram, ("10.0.0.5", 3000))
    assert dict(bridge.ignored) == {"Transmitter": 2, "Entity State": 1,
                                    "Detonation (expendable)": 1}
    assert bridge.malformed == 1 and "length field says 96" in seen[0]
    assert [row["interceptors_used"] for row in rows] == [1]  # the explosion


def test_one_broken_pdu_in_a_bundle_spoils_only_itself() -> None:
    rows: list[dict] = []
    bridge = _bridge(record=rows.append)
    broken_family = bytes.fromhex("07" "01" "02" "05" "00000000" "000c" "0000")
    bridge.datagram(bytes.fromhex(FIRE_HEX) + broken_family + bytes.fromhex(DETONATION_HEX))
    assert (bridge.recorded, bridge.malformed) == (1, 1)
    assert rows[0]["interceptors_used"] == 2  # paired with the fire of the same datagram


def test_entity_states_of_the_exercise_wait_for_the_next_batch() -> None:
    bridge = _bridge(tracks=lambda batch: None)
    bridge.datagram(bytes.fromhex(ENTITY_STATE_HEX), received_us=1_000)
    bridge.datagram(_exercise(ENTITY_STATE_HEX, 2), received_us=2_000)
    [point] = bridge.take_tracks()
    assert point.received_us == 1_000 and point.state.entity == (1, 2, 5)
    assert bridge.take_tracks() == [] and bridge.other_exercises == 1


async def _serving(bridge: DISBridge, flush_s: float) -> tuple[asyncio.Task, asyncio.Event, int]:
    stop, bound = asyncio.Event(), asyncio.Queue()
    task = asyncio.create_task(serve(bridge, "127.0.0.1", 0, stop=stop, flush_s=flush_s,
                                     ready=bound.put_nowait))
    return task, stop, (await bound.get())[1]


async def test_serve_flushes_tracks_every_interval() -> None:
    batches: list[list[TrackPoint]] = []
    bridge = _bridge(tracks=batches.append)
    task, stop, port = await _serving(bridge, flush_s=0.05)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(bytes.fromhex(ENTITY_STATE_HEX), ("127.0.0.1", port))
        await _wait_for(lambda: batches)
        assert [len(batch) for batch in batches] == [1] and not task.done()
    stop.set()
    await task
    assert bridge.track_points == 1


async def test_serve_flushes_what_is_left_when_stopped() -> None:
    batches: list[list[TrackPoint]] = []
    bridge = _bridge(tracks=batches.append)
    task, stop, port = await _serving(bridge, flush_s=600)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for _ in range(3):
            sender.sendto(bytes.fromhex(ENTITY_STATE_HEX), ("127.0.0.1", port))
        await _wait_for(lambda: len(bridge.pending) == 3)
    stop.set()
    await task
    assert [len(batch) for batch in batches] == [3] and bridge.track_points == 3


def test_malformed_callback_gets_what_was_wrong() -> None:
    errors: list[DISError] = []
    bridge = _bridge(on_malformed=lambda sender, error: errors.append(error))
    bridge.datagram(b"junk")
    assert [str(e) for e in errors] == ["PDU of 4 bytes is shorter than the 12-byte header"]
