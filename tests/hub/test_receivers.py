import socket
import time

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from sandbox.models import Role
from telemetry.receivers import parse_endpoint
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version
from tests.telemetry.streams import SPECS, frame

HEARTBEAT = next(s for s in SPECS.values() if s.name == "HEARTBEAT")


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _beats(sysid: int, count: int) -> bytes:
    return b"".join(frame(HEARTBEAT, bytes(HEARTBEAT.wire_length), seq=i, sysid=sysid)
                    for i in range(count))


def test_udp_and_tcp_traffic_lands_in_the_session_of_its_sysid(settings, engine, session,
                                                               make_user) -> None:
    udp, tcp = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_STREAM)
    live = settings.model_copy(update={"mavlink": [f"udpin:127.0.0.1:{udp}",
                                                   f"tcpin:127.0.0.1:{tcp}"]})
    with TestClient(create_app(live, engine=engine)) as client:
        engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
        version = new_version(client, engineer, new_prototype(client, engineer)["id"])
        trial = new_trial(client, soldier, version["id"])
        opened = client.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                             headers=auth(soldier), json={"sysid": 42}).json()
        data = _beats(42, 30)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(data[:100], ("127.0.0.1", udp))  # a frame split across datagrams
            sender.sendto(data[100:], ("127.0.0.1", udp))
            sender.sendto(_beats(7, 5), ("127.0.0.1", udp))  # nobody's sysid
        with socket.create_connection(("127.0.0.1", tcp)) as stream:
            stream.sendall(_beats(42, 20))
        counts = {}
        for _ in range(100):
            counts = client.get(f"/api/v1/telemetry-sessions/{opened['id']}",
                                headers=auth(soldier)).json()["counts"]
            if counts.get("HEARTBEAT") == 50:
                break
            time.sleep(0.05)
        assert counts == {"HEARTBEAT": 50}
        assert client.app.state.mavlink_router.unmatched == 5


@pytest.mark.parametrize("spec", ["udp:1.2.3.4:1", "udpin:host", "tcpin:h:99999", "file:/etc"])
def test_bad_listener_specs_are_refused(spec) -> None:
    with pytest.raises(ValueError, match="expected udpin:HOST:PORT"):
        parse_endpoint(spec)
