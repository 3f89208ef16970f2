"""The sensor page of a version in Chromium: Pd against range with its intervals, the
position-error distribution, and the figures by scenario, for each kind of viewer."""

import pytest

from sandbox.models import Role
from sandbox.scoring import wilson_interval
from tests.conftest import PASSWORD
from tests.hub.test_sensor_scores import sensor_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def version(client, make_user):
    return sensor_version(client, make_user)


def _open(page, live_url, user, version_id: int):
    log_in(page, live_url, user.name, PASSWORD)
    response = page.goto(f"{live_url}/versions/{version_id}/sensors")
    return response.status if response else None


def _rows(page, table: str) -> list[list[str]]:
    return [row.split("\t") for row in page.locator(f"#{table} tbody tr").all_inner_texts()]


def _traces(page, number: int) -> list[dict]:
    return page.evaluate(f"""() => document.querySelectorAll('div.plot')[{number}].data.map(
        t => ({{name: t.name, x: Array.from(t.x), y: Array.from(t.y),
               low: t.error_y ? Array.from(t.error_y.arrayminus) : null}}))""")


def test_reviewer_sees_pd_against_range_and_the_error_distribution(live_url, page,
                                                                    version) -> None:
    assert _open(page, live_url, version["reviewer"], version["id"]) == 200
    page.wait_for_selector("body[data-plotted=yes]", timeout=60_000)
    pd_traces = _traces(page, 0)
    assert [t["name"] for t in pd_traces] == ["Bravo coy, bridge, field trials",
                                              "shahed_raid, field trials"]
    field = pd_traces[1]
    # 500 m bins with target seconds (1,000 m to 3,500 m), their middles; detected only beyond
    # 2,000 m; the interval's lower arm is Pd minus Wilson's lower bound
    assert field["x"] == [1250, 1750, 2250, 2750, 3250]
    assert field["y"] == pytest.approx([0, 0, 24 / 25, 1, 1])
    assert field["low"][2] == pytest.approx(24 / 25 - wilson_interval(24, 25)[0])
    errors = _traces(page, 1)
    assert errors[1]["x"] == [2.5, 7.5, 12.5] and errors[1]["y"] == [0, 0, 50]
    detection = {row[0]: row[1:] for row in _rows(page, "detection")}
    assert detection["shahed_raid, field"][2] == "0.50 (0.40–0.59)"
    assert detection["shahed_raid, field"][3] == "50 of 101"
    assert detection["shahed_raid, field"][6] == "12.0 / 12.0 m"
    assert detection["shahed_raid, field"][7] == "35.6 (1 false alarm)"
    ew = {row[0]: row[1:] for row in _rows(page, "ew-effect")}
    assert ew["shahed_raid, field"] == ["1", "1 of 2", "11.1% / 0.0%", "58.8% / 0.0%", "3.0 s",
                                        "2,090 m"]
    shot(page, "sensor-page-reviewer")


def test_engineers_see_their_released_figures_others_nothing(live_url, page, version, make_user,
                                                             make_org) -> None:
    assert _open(page, live_url, version["engineer"], version["id"]) == 200
    page.wait_for_selector("body[data-plotted=yes]", timeout=60_000)
    # the soldiers' trials wait for a feedback batch; the reviewer's trial shows under 'other'
    assert [row[0] for row in _rows(page, "detection")] == ["other, field"]
    assert _rows(page, "detection")[0][5] == "2,990 m"  # to 10 m
    assert _rows(page, "ew-effect") == [["No jammer activation recorded yet."]]
    shot(page, "sensor-page-engineer")
    outsider = make_user(Role.engineer, make_org())
    page.context.clear_cookies()
    assert _open(page, live_url, outsider, version["id"]) == 404
