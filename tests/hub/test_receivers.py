"""Live MAVLink ingest over real sockets on loopback: stored whole, losses counted."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pymavlink.generator.mavcrc import x25crc

from hub.app import create_app
from hub.listeners.mavlink import Router
from sandbox.models import Role
from telemetry import decode
from telemetry.receivers import Endpoint, parse_endpoint
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.telemetry.streams import SPECS, frame

HEARTBEAT = next(s for s in SPECS.values() if s.name == "HEARTBEAT")


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _beat(sysid: int, number: int) -> bytes:
    """A heartbeat whose custom_mode says which one it is."""
    return frame(HEARTBEAT, number.to_bytes(4, "little") + bytes([2, 3, 81, 4, 3]),
                 seq=number % 256, sysid=sysid)


def _beats(sysid: int, count: int) -> bytes:
    return b"".join(_beat(sysid, i) for i in range(count))


def _send_paced(port: int, frames: list[bytes], rate_hz: float,
                each: Callable[[int], None] = lambda _: None) -> None:
    """One frame per datagram, `rate_hz` a second, as a vehicle's link sends them."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        started = time.perf_counter()
        for index, data in enumerate(frames):
            delay = started + index / rate_hz - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            each(index)
            sender.sendto(data, ("127.0.0.1", port))


def _wait_for(ready: Callable[[], bool], timeout_s: float = 60.0) -> None:
    # generous: on a loaded 2-core machine the listener may be starved for seconds; a pass
    # returns as soon as the condition holds
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def listening(settings, engine, session):
    """An app listening for MAVLink on a free UDP and a free TCP port of loopback."""
    udp, tcp = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_STREAM)
    live = settings.model_copy(update={"mavlink": [f"udpin:127.0.0.1:{udp}",
                                                   f"tcpin:127.0.0.1:{tcp}"]})
    with TestClient(create_app(live, engine=engine)) as client:
        yield client, udp, tcp


@pytest.fixture
def trial(listening, make_user) -> dict:
    client = listening[0]
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    return {"soldier": soldier, "reviewer": make_user(Role.reviewer),
            "engineer": engineer, "trial": new_trial(client, soldier, version["id"])}


def _open(client: TestClient, trial: dict, sysid: int) -> int:
    response = client.post(f"/api/v1/trials/{trial['trial']['id']}/telemetry-sessions",
                           headers=auth(trial["soldier"]), json={"sysid": sysid})
    return response.json()["id"]


def _session(client: TestClient, trial: dict, session_id: int) -> dict:
    return client.get(f"/api/v1/telemetry-sessions/{session_id}",
                      headers=auth(trial["reviewer"])).json()


def test_udp_and_tcp_traffic_lands_in_the_session_of_its_sysid(listening, trial) -> None:
    client, udp, tcp = listening
    session_id = _open(client, trial, 42)
    data = _beats(42, 30)
    crc_broken = bytearray(_beat(42, 99))
    crc_broken[11] ^= 0x40
    flagged = bytearray(_beat(42, 98))
    flagged[2] = 0x02  # an incompat flag nobody knows
    noise = bytes(crc_broken) + _resealed(bytes(flagged))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(noise, ("127.0.0.1", udp))
        sender.sendto(data[:100], ("127.0.0.1", udp))  # a frame split across datagrams
        sender.sendto(data[100:], ("127.0.0.1", udp))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.sendto(_beats(7, 5), ("127.0.0.1", udp))  # nobody's sysid
        nobody = f"127.0.0.1:{other.getsockname()[1]}"
    with socket.create_connection(("127.0.0.1", tcp)) as stream:
        stream.sendall(_beats(42, 20))
    router = client.app.state.mavlink_router
    # each sender's last frame comes out once it has been silent for a while
    _wait_for(lambda: _session(client, trial, session_id)["messages"] == 50
              and 7 in router.unmatched and router.unmatched[7].messages == 5)
    row = _session(client, trial, session_id)
    expected = decode(noise + data).stats
    assert row["counts"] == {"HEARTBEAT": 50}
    assert (row["datagrams"], row["listener_drops"]) == (3, 0)  # TCP reads are no datagrams
    assert (row["crc_failures"], row["incompatible_flags"]) == (expected.crc_failures, 1)
    status = client.get("/api/v1/listeners", headers=auth(trial["reviewer"])).json()
    assert [(u["sysid"], u["address"], u["messages"]) for u in status["unmatched_sysids"]] == [
        (7, nobody, 5)]
    assert [listener["endpoint"] for listener in status["listeners"]] == [
        f"udpin:127.0.0.1:{udp}", f"tcpin:127.0.0.1:{tcp}"]
    assert status["listeners"][0]["datagrams"] == 4
    assert status["listeners"][0]["kernel_drops"] == 0
    assert status["listeners"][0]["receive_buffer_bytes"] >= 2 * 2**20
    assert status["listeners"][1]["connections"] == 1
    assert status["rejects"]["incompatible_flags"] == 1
    assert status["messages_stored"] == 50


def _resealed(data: bytes) -> bytes:
    """The frame with its CRC recomputed over its (changed) header."""
    crc = x25crc(data[1:-2])
    crc.accumulate(bytes([HEARTBEAT.crc_extra]))
    return data[:-2] + crc.crc.to_bytes(2, "little")


def test_only_reviewers_and_admins_read_the_listeners(listening, trial, make_user) -> None:
    client = listening[0]
    for user in (trial["soldier"], trial["engineer"]):
        response = client.get("/api/v1/listeners", headers=auth(user))
        assert response.status_code == 403
        assert "unmatched_sysids" not in response.text
    admin = client.get("/api/v1/listeners", headers=auth(make_user(Role.admin))).json()
    assert len(admin["listeners"]) == 2


def _stored_custom_modes(client: TestClient, trial: dict, session_id: int) -> list[int]:
    response = client.get(f"/api/v1/telemetry-sessions/{session_id}/messages/HEARTBEAT",
                          headers=auth(trial["reviewer"]), params={"format": "json"})
    return sorted(row["custom_mode"] for row in response.json())


def test_senders_at_a_realistic_rate_are_stored_whole(listening, trial) -> None:
    _several_senders_stored_whole(listening, trial, senders=4, rate_hz=250, seconds=1.0)


@pytest.mark.slow
def test_sixteen_senders_at_ten_thousand_messages_a_second_are_stored_whole(listening,
                                                                           trial) -> None:
    _several_senders_stored_whole(listening, trial, senders=16, rate_hz=625, seconds=10.0)


def _several_senders_stored_whole(listening, trial, *, senders: int, rate_hz: float,
                                  seconds: float) -> None:
    client, udp, _ = listening
    count = int(rate_hz * seconds)
    sessions = {sysid: _open(client, trial, sysid) for sysid in range(1, senders + 1)}
    threads = [threading.Thread(target=_send_paced, args=(
        udp, [_beat(sysid, i) for i in range(count)], rate_hz)) for sysid in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _wait_for(lambda: all(_session(client, trial, s)["messages"] == count
                          for s in sessions.values()))
    for session_id in sessions.values():
        row = _session(client, trial, session_id)
        assert (row["messages"], row["datagrams"], row["link_lost"]) == (count, count, 0)
        assert row["listener_drops"] == 0
    status = client.get("/api/v1/listeners", headers=auth(trial["reviewer"])).json()
    assert status["listeners"][0]["kernel_drops"] == 0
    assert status["messages_stored"] == senders * count


def test_a_session_opened_while_its_vehicle_sends_gets_everything_after(listening,
                                                                        trial) -> None:
    client, udp, _ = listening
    progress = [0]
    heard = threading.Event()

    def sending(index: int) -> None:
        progress[0] = index
        if index == 60:
            heard.set()  # the vehicle has been heard (and dropped) for a while: open now

    count = 300
    sender = threading.Thread(target=_send_paced, args=(
        udp, [_beat(55, i) for i in range(count)], 100, sending))
    sender.start()
    heard.wait(10)
    session_id = _open(client, trial, 55)
    sent_before_opening = progress[0] + 1
    sender.join()
    router = client.app.state.mavlink_router
    _wait_for(lambda: 55 in router.unmatched and _session(client, trial, session_id)[
        "messages"] + router.unmatched[55].messages == count)
    stored = _stored_custom_modes(client, trial, session_id)
    assert stored == list(range(count - len(stored), count))  # one unbroken run to the end
    assert count - len(stored) <= sent_before_opening  # nothing sent after opening dropped
    assert router.unmatched[55].messages == count - len(stored)


def test_a_link_silent_for_seconds_counts_what_it_lost(listening, trial) -> None:
    client, udp, _ = listening
    session_id = _open(client, trial, 71)
    router = client.app.state.mavlink_router
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as vehicle:
        for number in range(10):
            vehicle.sendto(_beat(71, number), ("127.0.0.1", udp))
        # jammed: silent until even the frame held back for what follows is released
        _wait_for(lambda: _session(client, trial, session_id)["messages"] == 10)
        for number in range(30, 40):
            vehicle.sendto(_beat(71, number), ("127.0.0.1", udp))
    _wait_for(lambda: _session(client, trial, session_id)["messages"] == 20)
    assert _session(client, trial, session_id)["link_lost"] == 20  # 10 … 29
    assert router.rejects.sequence_gaps == 20


async def test_kernel_drops_are_counted_when_the_reader_stalls(listening, trial, engine,
                                                               settings) -> None:
    client = listening[0]
    session_id = _open(client, trial, 61)
    router = Router(engine=engine, storage=settings.storage(), buffer_bytes=4096)
    await router.start([Endpoint("udpin", "127.0.0.1", 0)])
    listener = router.listeners[0]
    sent = 400
    listener.pause(True)  # stands for a reader that cannot keep up
    await asyncio.sleep(0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for number in range(sent - 1):
            sender.sendto(_beat(61, number), ("127.0.0.1", listener.port))
        listener.pause(False)
        await asyncio.sleep(0.2)
        sender.sendto(_beat(61, sent - 1), ("127.0.0.1", listener.port))  # carries the count
        for _ in range(200):
            await asyncio.sleep(0.05)
            if router.stored + (listener.counters.kernel_drops or 0) == sent:
                break
    await router.stop()
    drops = listener.counters.kernel_drops
    row = _session(client, trial, session_id)
    assert drops and drops > sent // 2
    assert row["messages"] + drops == sent
    assert (row["listener_drops"], row["datagrams"]) == (drops, row["messages"])
    assert listener.counters.receive_buffer_bytes < 64 << 10


def test_serve_prints_what_it_listens_on(tmp_path, database_url) -> None:
    udp, port = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_STREAM)
    env = {**os.environ, "SOLDIERSLAB_DATABASE_URL": database_url,
           "SOLDIERSLAB_DATA_DIR": str(tmp_path), "SOLDIERSLAB_SECRET_KEY": SECRET}
    command = [sys.executable, "-c", "from hub.cli import app; app()", "serve", "--port",
               str(port), "--mavlink", f"udpin:127.0.0.1:{udp}"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env) as server:
        watchdog = threading.Timer(60, server.kill)  # a silent server must not hang the suite
        watchdog.start()
        try:
            assert server.stdout is not None
            lines = iter(server.stdout.readline, "")
            first = next(line for line in lines if line.startswith("MAVLink"))
            second = next(lines)
        finally:
            watchdog.cancel()
            server.terminate()
    assert first.startswith(f"MAVLink: listening on udpin:127.0.0.1:{udp} (receive buffer ")
    assert "MiB granted by the kernel" in first
    assert "/admin/listeners" in second


@pytest.mark.parametrize("spec", ["udp:1.2.3.4:1", "udpin:host", "tcpin:h:99999", "file:/etc"])
def test_bad_listener_specs_are_refused(spec) -> None:
    with pytest.raises(ValueError, match="expected udpin:HOST:PORT"):
        parse_endpoint(spec)
