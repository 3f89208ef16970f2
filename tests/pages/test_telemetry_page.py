"""A telemetry session's page: series on one time axis, the track in local metres, the flight
summary, the time range in view as a .tlog; who may open it is the API's rule."""

import html
import json
import re
from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sandbox.models import Role
from tests.conftest import PASSWORD, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser
ULOG = Path(__file__).resolve().parents[1] / "data" / "sample_px4_events.ulg"
SITE = (47.3977, 8.5456)  # the simulated flight's site, near Zurich
# the log has no air speed, and its current is 'unknown' throughout: no current panel
PANELS = ["altitude above home (m)", "speed (m/s)", "attitude (°)", "battery voltage (V)",
          "GPS fix type and satellites"]


@pytest.fixture
def flown(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"], lat=SITE[0], lon=SITE[1])
    upload = client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=ULOG.read_bytes(),
                         headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert upload.status_code == 201, upload.text
    return {"engineer": engineer, "soldier": soldier, "trial": trial,
            "session": upload.json()["id"], "reviewer": make_user(Role.reviewer)}


def open_page(page, live_url, user, session_id):
    log_in(page, live_url, user.name, PASSWORD)
    response = page.goto(f"{live_url}/sessions/{session_id}")
    if response.status == 200:
        page.wait_for_selector("body[data-plotted=yes]")
    return response


def texts(page, selector: str) -> list[str]:
    return page.locator(selector).all_text_contents()


def test_reviewer_reads_a_real_log_and_downloads_the_segment_in_view(live_url, page,
                                                                     flown) -> None:
    assert open_page(page, live_url, flown["reviewer"], flown["session"]).status == 200
    shot(page, "telemetry-session-reviewer")
    series = page.locator("div.plot.series")
    assert texts(page, "div.plot.series text[class^=y][class$=title]") == PANELS
    assert texts(page, "div.plot.series text[class^=x][class$=title]") == [
        "time from the session's start (s)"]  # one time axis, shared
    legend = texts(page, "div.plot.series text[class^=legend][class$=text]")  # one a panel
    for entry in ("altitude", "ground speed", "roll", "pitch", "yaw", "satellites",
                  "fix type (0–6)"):
        assert entry in legend
    assert series.locator(".rangeslider-container").count() == 1
    summary = page.inner_text("#summary")
    assert "Duration\t31.1 s" in summary and "at least 10 satellites" in summary
    assert page.inner_text("#first-fix") == "47.397742, 8.545594"  # the task force's raw view
    whole = page.get_attribute("#download", "href")
    assert whole == f"/sessions/{flown['session']}/segment.tlog"
    whole_bytes = page.request.get(live_url + whole).body()
    # zoom the time axis as a drag would: the link and the track's selected part follow
    page.evaluate("Plotly.relayout(document.querySelector('div.plot.series'), "
                  "{'xaxis.range': [12, 18]})")
    page.wait_for_function("document.getElementById('download').href.includes('since=')")
    assert page.inner_text("#range") == "12.0–18.0 s"
    part = page.get_attribute("#download", "href")
    assert part == f"/sessions/{flown['session']}/segment.tlog?since=12.0&until=18.0"
    segment = page.request.get(live_url + part)
    assert segment.status == 200
    times = [frame._timestamp for frame in _frames(segment.body())]
    assert times and max(times) - min(times) <= 6.0 and len(segment.body()) < len(whole_bytes)
    selected = page.evaluate("document.querySelector('div.plot.track').data[1].x.length")
    everything = page.evaluate("document.querySelector('div.plot.track').data[0].x.length")
    assert 0 < selected < everything
    # the range slider moves the last chart's axis; a double-click brings back the whole
    page.evaluate("""(() => { const div = document.querySelector('div.plot.series');
        const last = Object.keys(div.layout).filter((k) => /^xaxis\\d*$/.test(k)).sort().pop();
        return Plotly.relayout(div, {[last + '.range']: [5, 9.5]}); })()""")
    page.wait_for_function("document.getElementById('range').textContent === '5.0–9.5 s'")
    page.evaluate("Plotly.relayout(document.querySelector('div.plot.series'), "
                  "{'xaxis.autorange': true})")
    page.wait_for_function("document.getElementById('range').textContent === 'the whole session'")
    assert page.get_attribute("#download", "href") == whole
    shot(page, "telemetry-session-reviewer")


def test_engineer_sees_local_metres_only(live_url, page, flown) -> None:
    assert open_page(page, live_url, flown["engineer"], flown["session"]).status == 200
    source = page.content()
    for raw in ("47.39", "473977", "8.545", "85455", "&quot;lat&quot;", '"lat"', '"lon"',
                "&#34;lat&#34;", "&#34;lon&#34;", "first-fix"):
        assert raw not in source, raw
    assert "trial's local origin" in texts(page, "div.plot.track .gtitle")[0]
    track = page.evaluate("document.querySelector('div.plot.track').data[0]")
    # metres from the secret origin, 5 to 15 km from the site
    assert 5_000 < (track["x"][0] ** 2 + track["y"][0] ** 2) ** 0.5 < 15_000
    assert f"Trial {flown['trial']['id']} " not in page.inner_text("#about")  # a pseudonym
    shot(page, "telemetry-session-engineer")


def test_soldier_of_the_unit_opens_it(live_url, page, flown) -> None:
    assert open_page(page, live_url, flown["soldier"], flown["session"]).status == 200
    assert "attitude (°)" in texts(page, "div.plot.series [class^=g-y][class$=title]")


@pytest.mark.parametrize("who", ["another company's engineer", "another unit's soldier"])
def test_others_are_refused(live_url, page, flown, make_user, who) -> None:
    other = make_user(Role.engineer if "engineer" in who else Role.soldier)
    # 404, as the API answers: a 403 would confirm the session exists
    assert open_page(page, live_url, other, flown["session"]).status == 404
    assert "session" in page.inner_text("main") and "Hornet" not in page.content()
    assert page.request.get(
        f"{live_url}/sessions/{flown['session']}/segment.tlog").status == 404
    shot(page, f"telemetry-session-refused-{who.split()[1].rstrip('s').rstrip(chr(39))}")


def _frames(tlog: bytes):
    """The messages of a .tlog (8-byte timestamp, then a frame), as pymavlink reads them."""
    parser, found, at = mavlink.MAVLink(None), [], 0
    parser.robust_parsing = True
    while at + 8 < len(tlog):
        stamp = int.from_bytes(tlog[at:at + 8], "big") / 1e6
        length = tlog[at + 9] + 12 + (13 if tlog[at + 10] & 1 else 0)
        message = parser.parse_char(tlog[at + 8:at + 8 + length])
        if message is not None:
            message._timestamp = stamp
            found.append(message)
        at += 8 + length
    return found


# -- a .tlog built here: link quality and thinning ---------------------------------------

def _link_tlog(attitudes: int = 5_000) -> bytes:
    """HEARTBEAT and RADIO_STATUS at 1 Hz with 7 frames lost at 20 s, ATTITUDE at 50 Hz."""
    sender, out = mavlink.MAVLink(None, srcSystem=1, srcComponent=1), bytearray()
    for step in range(attitudes):
        t_us = 1_700_000_000_000_000 + step * 20_000
        if step == 1_000:
            sender.seq = (sender.seq + 7) % 256  # the radio lost 7 frames here
        messages = [mavlink.MAVLink_attitude_message(step * 20, 0.1, -0.05, 1.0, 0, 0, 0)]
        if step % 50 == 0:
            messages += [mavlink.MAVLink_heartbeat_message(1, 3, 0, 0, 4, 3),
                         mavlink.MAVLink_radio_status_message(200, 180, 40, 30, 0, 0, 0)]
        for number, message in enumerate(messages):  # a tlog stamps each frame apart
            out += (t_us + number).to_bytes(8, "big") + message.pack(sender)
            sender.seq = (sender.seq + 1) % 256  # as send() would
    return bytes(out)


def _figure(text: str) -> dict:
    found = re.search(r'class="plot series"[^>]*data-figure="([^"]*)"', text)
    assert found, "no series chart"
    return json.loads(html.unescape(found.group(1)))


def test_link_quality_and_thinning(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"], lat=SITE[0], lon=SITE[1])
    upload = client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=_link_tlog(),
                         headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert upload.status_code == 201, upload.text
    seen = {}
    for user in (make_user(Role.reviewer), engineer):
        client.cookies.clear()
        client.post("/login", data={"username": user.name, "password": PASSWORD})
        answer = client.get(f"/sessions/{upload.json()['id']}", headers={"accept": "text/html"})
        assert answer.status_code == 200
        seen[user.role] = {trace["name"]: trace for trace in _figure(answer.text)["data"]}
    raw, released = seen[Role.reviewer], seen[Role.engineer]
    assert len(raw["roll"]["x"]) <= 2_000 < 5_000  # thinned on the server
    assert raw["roll"]["y"][0] == pytest.approx(5.7296, abs=1e-3)  # 0.1 rad in degrees
    lost = raw["frames lost per 1 s"]
    assert sum(lost["y"]) == 7 and lost["x"][lost["y"].index(7)] == 20.0
    assert raw["local RSSI"]["y"][0] == 200 and raw["remote RSSI"]["y"][0] == 180
    # RADIO_STATUS is not among the fields released outside the task force; gaps are counts
    assert "local RSSI" not in released and sum(released["frames lost per 1 s"]["y"]) == 7
