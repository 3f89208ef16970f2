"""The admin page of the MAVLink listeners, in a real browser against a hub listening on UDP."""

import socket
import time

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.auth import issue_token
from hub.pages.session import COOKIE
from sandbox.models import Role, User
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.pages.conftest import shot
from tests.telemetry.streams import SPECS, frame

pytestmark = pytest.mark.browser
HEARTBEAT = next(s for s in SPECS.values() if s.name == "HEARTBEAT")


@pytest.fixture
def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app(settings, engine, session, udp_port):  # this module's hub listens for MAVLink
    live = settings.model_copy(update={"mavlink": [f"udpin:127.0.0.1:{udp_port}"]})
    return create_app(live, engine=engine)


def _signed_in(page, live_url: str, user: User) -> None:
    """The page session's cookie holds the user's bearer token (what /login would set)."""
    page.context.add_cookies([{"name": COOKIE, "url": live_url,
                               "value": issue_token(user, secret=SECRET, ttl_s=600)}])


def _beats(sysid: int, count: int) -> list[bytes]:
    return [frame(HEARTBEAT, bytes(HEARTBEAT.wire_length), seq=i, sysid=sysid)
            for i in range(count)]


def _fed_session(app, make_user) -> int:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    client = TestClient(app)  # requests only: the live server runs the app's listeners
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    return client.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                       headers=auth(soldier), json={"sysid": 42}).json()["id"]


def test_admin_sees_the_listeners_their_losses_and_unclaimed_sysids(live_url, page, app,
                                                                    udp_port,
                                                                    make_user) -> None:
    session_id = _fed_session(app, make_user)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as vehicle:
        for data in _beats(42, 25):
            vehicle.sendto(data, ("127.0.0.1", udp_port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        for data in _beats(9, 7):
            stranger.sendto(data, ("127.0.0.1", udp_port))
        stranger_address = f"127.0.0.1:{stranger.getsockname()[1]}"
    router = app.state.mavlink_router
    deadline = time.monotonic() + 15
    # a stream's last frame comes out when its sender has been silent for a while
    while (router.stored < 25 or 9 not in router.unmatched
           or router.unmatched[9].messages < 7) and time.monotonic() < deadline:
        time.sleep(0.05)

    _signed_in(page, live_url, make_user(Role.admin))
    page.goto(f"{live_url}/admin/listeners")
    listener = page.locator("#listeners tbody tr").inner_text()
    assert f"udpin:127.0.0.1:{udp_port}" in listener and "MiB" in listener
    assert "32" in listener.split("\t")[2]  # datagrams: 25 + 7
    unclaimed = page.locator("#unmatched tbody tr").inner_text()
    assert unclaimed.split("\t")[:3] == ["9", stranger_address, f"udpin:127.0.0.1:{udp_port}"]
    assert unclaimed.split("\t")[-1] == "7"
    fed = page.locator("#sessions tbody tr").inner_text().split("\t")
    assert fed[:5] == [str(session_id), fed[1], "42", "25", "25"]
    shot(page, "admin-listeners")


def test_soldiers_cannot_open_the_listeners_page(live_url, page, make_user) -> None:
    _signed_in(page, live_url, make_user(Role.soldier))
    response = page.goto(f"{live_url}/admin/listeners")
    assert response is not None and response.status == 403
    assert "this page is for: admin, reviewer" in page.inner_text("body")
    assert page.locator("#listeners").count() == 0
