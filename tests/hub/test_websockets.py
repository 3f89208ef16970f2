"""Websockets: hostile messages get an answer, a client that leaves is noticed at once,
closing a credential closes its sockets, and the hub stops promptly whatever clients do."""

import logging
import signal
import socket
import time
from base64 import b64encode
from collections.abc import Callable
from contextlib import ExitStack

import jwt
import pytest
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from hub.app import create_app
from hub.pages.session import COOKIE, csrf_token
from hub.ws.registry import token_subject
from sandbox.models import Role
from tests.conftest import PASSWORD, SECRET, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.hub import test_events
from tests.hub.served import hub_process, served

trial_key = test_events.trial_key  # the fixture: a simulator trial and its write key

STARTED = {"type": "engagement_started", "engagement": "e1", "threat_kind": "shahed_136",
           "threat_cost_eur": 35000}


def _token(user) -> str:
    return auth(user)["Authorization"].removeprefix("Bearer ")


def _jti(token: str) -> str:
    return str(jwt.decode(token, SECRET, algorithms=["HS256"])["jti"])


# --- the event protocol answers whatever arrives ---------------------------------------------

@pytest.mark.parametrize("frame, says", [
    ("[" * 9_999, "nested too deep"), ("{" * 5_000, "not JSON"),
    ('{"count": ' + "1" * 5_000 + "}", "not JSON"), ("x" * 10_001, "at most 10,000"),
    ('{"type": "engagement_started", "engagement": "e", "threat_kind": "fpv", '
     '"threat_cost_eur": NaN}', "threat_cost_eur"),
])
def test_hostile_event_messages_get_an_error_and_the_socket_stays_open(client, trial_key,
                                                                       frame, says) -> None:
    trial, key = trial_key
    with client.websocket_connect(f"/ws/trials/{trial['id']}/events?key={key}") as bridge:
        bridge.send_text(frame)
        answer = bridge.receive_json()
        assert answer["type"] == "error" and says in answer["detail"]
        bridge.send_json(STARTED)
        assert bridge.receive_json() == {"type": "accepted"}


def test_a_binary_event_frame_gets_an_error_and_the_socket_stays_open(client,
                                                                      trial_key) -> None:
    trial, key = trial_key
    with client.websocket_connect(f"/ws/trials/{trial['id']}/events?key={key}") as bridge:
        bridge.send_bytes(b'{"type": "engagement_started"}')
        assert bridge.receive_json() == {"type": "error",
                                         "detail": "events are JSON text messages, not binary"}
        bridge.send_json(STARTED)
        assert bridge.receive_json() == {"type": "accepted"}


# --- a client that leaves is noticed at once -------------------------------------------------

@pytest.fixture
def watchers(client, make_user) -> dict[str, str]:
    """A websocket path, with a valid token, for the feed and for a trial's live view."""
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    return {"feed": f"/ws/feed?token={_token(engineer)}",
            "live": f"/ws/trials/{trial['id']}/live?token={_token(soldier)}"}


def _until(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize("kind", ["feed", "live"])
def test_a_client_that_leaves_frees_its_handler_at_once(settings, engine, watchers,
                                                        kind) -> None:
    app = create_app(settings, engine=engine)
    with served(app, settings) as (url, server):
        for _ in range(30):
            with connect(url.replace("http", "ws") + watchers[kind]) as websocket:
                websocket.ping().wait(5)  # accepted and serving
        # No notice is coming: the handlers must see the clients go by reading the socket.
        assert _until(lambda: not server.server_state.tasks and app.state.sockets.count() == 0)


# --- logging out, revoking a key, disabling a user close what they opened ---------------------

def _log_in(client, user) -> str:
    response = client.post("/api/v1/auth/token", data={"username": user.name,
                                                       "password": PASSWORD})
    return str(response.json()["access_token"])


def test_logging_out_closes_that_tokens_websockets(app, client, make_user) -> None:
    engineer = make_user(Role.engineer)
    leaving, staying = _log_in(client, engineer), _token(engineer)
    with client.websocket_connect(f"/ws/feed?token={leaving}") as closed, \
            client.websocket_connect(f"/ws/feed?token={staying}") as kept:
        assert _until(lambda: app.state.sockets.count() == 2)
        assert client.post("/api/v1/auth/logout", headers={
            "Authorization": f"Bearer {leaving}"}).status_code == 204
        with pytest.raises(WebSocketDisconnect) as ended:
            closed.receive_json()
        assert (ended.value.code, ended.value.reason) == (1008, "logged out")
        app.state.feed.publish(engineer.organisation_id, {"event": "report"})
        assert kept.receive_json() == {"event": "report"}  # another token's socket lives on
        assert app.state.sockets.count(token_subject(_jti(staying))) == 1


def test_logging_out_of_the_pages_closes_that_sessions_websockets(app, client,
                                                                  make_user) -> None:
    engineer = make_user(Role.engineer)
    assert client.post("/login", data={"username": engineer.name, "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    token = client.cookies[COOKIE]
    with client.websocket_connect(f"/ws/feed?token={token}") as websocket:
        assert _until(lambda: app.state.sockets.count() == 1)
        client.post("/logout", data={"csrf": csrf_token(SECRET, _jti(token))})
        with pytest.raises(WebSocketDisconnect) as ended:
            websocket.receive_json()
        assert (ended.value.code, ended.value.reason) == (1008, "logged out")


def test_revoking_a_key_closes_its_event_sockets(app, client, trial_key, make_user) -> None:
    trial, key = trial_key
    reviewer = make_user(Role.reviewer)
    [row] = client.get("/api/v1/api-keys", headers=auth(reviewer)).json()
    with client.websocket_connect(f"/ws/trials/{trial['id']}/events?key={key}") as bridge:
        bridge.send_json(STARTED)
        assert bridge.receive_json() == {"type": "accepted"}
        revoked = client.delete(f"/api/v1/api-keys/{row['id']}", headers=auth(reviewer))
        assert revoked.status_code == 200
        with pytest.raises(WebSocketDisconnect) as ended:
            bridge.receive_json()
        assert (ended.value.code, ended.value.reason) == (1008, "API key revoked")


def test_disabling_a_user_closes_all_their_websockets(app, client, make_user) -> None:
    admin, engineer = make_user(Role.admin), make_user(Role.engineer)
    with client.websocket_connect(f"/ws/feed?token={_token(engineer)}") as first, \
            client.websocket_connect(f"/ws/feed?token={_token(engineer)}") as second:
        assert _until(lambda: app.state.sockets.count() == 2)
        response = client.patch(f"/api/v1/users/{engineer.id}", headers=auth(admin),
                                json={"is_active": False})
        assert (response.status_code, response.json()["is_active"]) == (200, False)
        for websocket in (first, second):
            with pytest.raises(WebSocketDisconnect) as ended:
                websocket.receive_json()
            assert (ended.value.code, ended.value.reason) == (1008, "account disabled")
    assert client.get("/api/v1/auth/me", headers=auth(engineer)).status_code == 401


def test_an_admin_cannot_disable_their_own_account(client, make_user) -> None:
    admin = make_user(Role.admin)
    response = client.patch(f"/api/v1/users/{admin.id}", headers=auth(admin),
                            json={"is_active": False})
    assert response.status_code == 409
    assert client.get("/api/v1/auth/me", headers=auth(admin)).status_code == 200


# --- the real hub process: memory over many clients, and SIGTERM -----------------------------

def _half_closed(url: str, path: str) -> socket.socket:
    """A client that completes the websocket handshake, then shuts its sending side."""
    host, port = url.removeprefix("http://").split(":")
    raw = socket.create_connection((host, int(port)))
    key = b64encode(b"0123456789abcdef").decode()
    raw.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert b" 101 " in raw.recv(4096).split(b"\r\n")[0]
    raw.shutdown(socket.SHUT_WR)
    return raw


def _open_and_half_closed(clients: ExitStack, url: str, watchers: dict[str, str]) -> None:
    for kind in ("feed", "live") * 3:
        clients.enter_context(connect(url.replace("http", "ws") + watchers[kind]))  # idle
        clients.enter_context(_half_closed(url, watchers[kind]))


def test_shutdown_ends_within_seconds_whatever_clients_do(settings, engine, watchers,
                                                          caplog) -> None:
    app = create_app(settings, engine=engine)
    uvicorn_log = logging.getLogger("uvicorn.error")  # does not reach the root logger
    with ExitStack() as clients:
        with served(app, settings) as (url, server):
            uvicorn_log.addHandler(caplog.handler)
            clients.callback(uvicorn_log.removeHandler, caplog.handler)
            _open_and_half_closed(clients, url, watchers)
            assert _until(lambda: app.state.sockets.count() >= 6)  # the idle ones at least
            started = time.monotonic()
        elapsed_s = time.monotonic() - started
    assert elapsed_s < 5, f"shutdown took {elapsed_s:.2f} s"
    # Every handler ended by itself: uvicorn never had to cancel one at its deadline.
    assert "graceful shutdown exceeded" not in caplog.text
    assert not server.server_state.tasks and app.state.sockets.count() == 0


@pytest.mark.slow
def test_sigterm_ends_the_hub_within_seconds_whatever_clients_do(database_url, tmp_path,
                                                                 watchers,
                                                                 record_property) -> None:
    with hub_process(database_url, tmp_path / "hub") as hub, ExitStack() as clients:
        _open_and_half_closed(clients, hub.url, watchers)
        elapsed_s = hub.terminate_timed(timeout_s=15)
    record_property("sigterm_s", f"{elapsed_s:.2f}")
    assert elapsed_s < 5, f"SIGTERM took {elapsed_s:.2f} s"
    # uvicorn ends with the signal it caught, once its shutdown (and ours) is complete
    assert hub.process.returncode == -signal.SIGTERM
    log = hub.log.read_text()
    assert "Application shutdown complete" in log and "graceful shutdown exceeded" not in log


def _cycles(url: str, path: str, count: int) -> None:
    for _ in range(count):
        with connect(url.replace("http", "ws") + path) as websocket:
            websocket.ping().wait(5)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["feed", "live"])
def test_hub_memory_is_flat_over_2000_websocket_cycles(database_url, tmp_path, watchers,
                                                       kind, record_property) -> None:
    with hub_process(database_url, tmp_path / "hub") as hub:
        _cycles(hub.url, watchers[kind], 300)  # warm up: caches, pools, allocator arenas
        before = hub.rss_bytes()
        _cycles(hub.url, watchers[kind], 2_000)
        time.sleep(1)
        after = hub.rss_bytes()
    growth_mib = (after - before) / 2**20
    record_property("rss_mib", f"{before / 2**20:.1f} -> {after / 2**20:.1f}")
    assert growth_mib < 10, f"RSS grew {growth_mib:.1f} MiB over 2,000 cycles"
