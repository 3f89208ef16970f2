"""Two hub replicas (real processes) on one PostgreSQL database, told about each other only by
its LISTEN/NOTIFY: what happens on replica A is heard by the websockets open on replica B."""

import json
from collections.abc import Iterator
from functools import partial

import httpx2 as httpx  # the HTTP client the test extra declares
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from sandbox.models import Role
from sandbox.privacy import week_of
from sandbox.timeutil import utcnow
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.hub.served import HubProcess, hub_process
from tests.hub.test_telemetry import SITE_LAT, SITE_LON, position

AUDIT_KEY = "replicas-share-one-audit-key-" + "k" * 16


@pytest.fixture(scope="module")
def replicas(database_url, engine, tmp_path_factory) -> Iterator[tuple[HubProcess, HubProcess]]:
    """Replicas A and B, sharing the database and a telemetry folder; started once here."""
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas hear each other through PostgreSQL (SOLDIERSLAB_DATABASE_URL)")
    folder = tmp_path_factory.mktemp("replicas")
    replica = partial(hub_process, database_url, telemetry_url=folder / "telemetry",
                      audit_key=AUDIT_KEY)
    with replica(folder / "a") as a, replica(folder / "b") as b:
        yield a, b


def _socket(hub: HubProcess, path: str) -> ClientConnection:
    return connect(hub.url.replace("http", "ws", 1) + path)


def _token(user) -> str:
    return auth(user)["Authorization"].removeprefix("Bearer ")


def _trial(api: httpx.Client, make_user, **fields) -> tuple:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(api, engineer, new_prototype(api, engineer)["id"])
    return engineer, soldier, new_trial(api, soldier, version["id"], **fields)


def test_an_outcome_posted_to_a_reaches_the_engineers_feed_on_b_within_a_second(
        replicas, make_user) -> None:
    a, b = replicas
    with httpx.Client(base_url=a.url, timeout=30) as on_a:
        engineer, soldier, trial = _trial(on_a, make_user)
        other_company = make_user(Role.engineer)
        with _socket(b, f"/ws/feed?token={_token(engineer)}") as feed, \
                _socket(b, f"/ws/feed?token={_token(other_company)}") as other:
            add_engagements(on_a, soldier, trial["id"], [engagement(outcome="miss")])
            notice = json.loads(feed.recv(timeout=1.0))
            with pytest.raises(TimeoutError):
                other.recv(timeout=0.5)
    assert notice == {"event": "engagements", "prototype_id": notice["prototype_id"],
                      "version_id": trial["version_id"], "trial_kind": "field",
                      "at": week_of(utcnow())}


def test_a_position_streamed_to_a_reaches_a_live_dashboard_on_b(replicas, make_user) -> None:
    a, b = replicas
    with httpx.Client(base_url=a.url, timeout=30) as on_a:
        _, soldier, trial = _trial(on_a, make_user, lat=SITE_LAT, lon=SITE_LON)
        opened = on_a.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                           headers=auth(soldier), json={}).json()
    viewer = _token(make_user(Role.reviewer))
    with _socket(b, f"/ws/trials/{trial['id']}/live?token={viewer}") as dashboard, \
            _socket(a, f"/ws/telemetry/{opened['id']}?token={opened['token']}") as device:
        device.send((1).to_bytes(8, "big") + b"".join(position(i) for i in range(5)))
        assert json.loads(device.recv(timeout=30))["stored"] == 5
        notice = json.loads(dashboard.recv(timeout=5))
    assert notice["session_id"] == opened["id"]
    assert notice["position"]["up_m"] == 50.0 and set(notice["position"]) == {
        "east_m", "north_m", "up_m"}
    assert str(SITE_LAT) not in json.dumps(notice)


def _closed(socket: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_logging_out_on_a_closes_the_users_sockets_on_b(replicas, make_user) -> None:
    a, b = replicas
    engineer = make_user(Role.engineer)
    leaving, staying = auth(engineer), _token(engineer)
    token = leaving["Authorization"].removeprefix("Bearer ")
    with _socket(b, f"/ws/feed?token={token}") as feed, \
            _socket(b, f"/ws/feed?token={staying}") as other_session:
        assert httpx.post(f"{a.url}/api/v1/auth/logout", headers=leaving).status_code == 204
        assert _closed(feed) == (1008, "logged out")
        with pytest.raises(TimeoutError):  # the same user's other log-in stays open
            other_session.recv(timeout=0.3)


def test_revoking_a_key_on_a_closes_its_simulator_socket_on_b(replicas, make_user) -> None:
    a, b = replicas
    with httpx.Client(base_url=a.url, timeout=30) as on_a:
        _, soldier, trial = _trial(on_a, make_user, kind="simulator", simulator="DCS")
        key = on_a.post("/api/v1/api-keys", headers=auth(soldier), json={
            "name": "DCS plug-in", "scope": "trial", "scope_id": trial["id"],
            "access": "write"}).json()
        with _socket(b, f"/ws/trials/{trial['id']}/events?key={key['key']}") as bridge:
            bridge.send(json.dumps({"type": "engagement_started", "engagement": "e1",
                                    "threat_kind": "shahed_136", "threat_cost_eur": 35000}))
            assert json.loads(bridge.recv(timeout=5)) == {"type": "accepted"}
            revoked = on_a.delete(f"/api/v1/api-keys/{key['id']}", headers=auth(soldier))
            assert revoked.status_code == 200
            assert _closed(bridge) == (1008, "API key revoked")
