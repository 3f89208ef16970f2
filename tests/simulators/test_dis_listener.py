import asyncio
import socket

from simulators.bridges.dis_listener import DISBridge, listen
from tests.simulators.test_dis import DETONATION_HEX, FIRE_HEX


async def test_listener_records_detonations_and_survives_garbage() -> None:
    rows: list[dict] = []
    bridge = DISBridge(exercise_id=1, threat_kind="shahed_136", threat_cost_cents=3_500_000,
                       record=rows.append)
    transport = await listen(bridge, "127.0.0.1", 0)
    port = transport.get_extra_info("sockname")[1]
    other_exercise = bytearray(bytes.fromhex(DETONATION_HEX))
    other_exercise[1] = 9
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in (b"junk", bytes.fromhex(FIRE_HEX), bytes(other_exercise),
                         bytes.fromhex(DETONATION_HEX)[:50], bytes.fromhex(DETONATION_HEX)):
            sender.sendto(datagram, ("127.0.0.1", port))
        for _ in range(100):
            if bridge.recorded:
                break
            await asyncio.sleep(0.01)
    transport.close()
    assert (bridge.malformed, bridge.ignored, bridge.recorded) == (2, 1, 1)
    assert rows[0]["outcome"] == "intercept" and rows[0]["interceptors_used"] == 2
