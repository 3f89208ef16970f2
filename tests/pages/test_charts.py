"""Charts drawn by Plotly from the hub's own copy of plotly.js: axis titles with units, a legend
entry for every series, hover values, zoom and a PNG export, with nothing fetched elsewhere."""

from pathlib import Path

import pytest

from sandbox.models import Role
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser
ULOG = Path(__file__).resolve().parents[1] / "data" / "sample_px4_events.ulg"


@pytest.fixture
def scored(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer, name="Hornet")
    for version, intercepts in (("1.0.0", 6), ("1.1.0", 9)):
        made = new_version(client, engineer, prototype["id"], version=version)
        # the site of the log's flight (a simulator's, near Zurich)
        trial = new_trial(client, soldier, made["id"], lat=47.3977, lon=8.5456)
        add_engagements(client, soldier, trial["id"], [engagement()] * intercepts + [
            engagement(outcome="miss", time_to_intercept_s=None)] * (10 - intercepts))
    upload = client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=ULOG.read_bytes(),
                         headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert upload.status_code == 201, upload.text
    return {"engineer": engineer, "reviewer": make_user(Role.reviewer),
            "prototype": prototype, "session": upload.json()["id"]}


def plotted(page) -> None:
    page.wait_for_selector("body[data-plotted=yes]")


def hover(page, element) -> None:
    """Plotly's drag layer lies over the points: move the mouse, not at the element."""
    box = element.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def titles(chart, axis: str) -> list[str]:
    return chart.locator(f".g-{axis}title").all_text_contents()


def test_dashboard_plots_cost_against_pk_offline(live_url, page, scored) -> None:
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    log_in(page, live_url, scored["reviewer"].name, PASSWORD)
    plotted(page)
    chart = page.locator("div.plot").first
    assert titles(chart, "x") == ["Pk, probability of intercept (95% interval)"]
    assert titles(chart, "y") == ["cost per intercept (EUR, log scale)"]
    assert sorted(chart.locator(".legendtext").all_text_contents()) == [
        "Hornet 1.0.0", "Hornet 1.1.0"]
    assert chart.locator(".legendtitletext").text_content().startswith("version")
    # one point a version with its Pk interval; 40,000 EUR over 9 intercepts
    points = chart.locator(".scatterlayer .point")
    assert points.count() == 2
    hovered = []
    for number in range(2):
        hover(page, points.nth(number))
        hovered.append(chart.locator(".hoverlayer").text_content())
    assert any("Hornet 1.1.0" in text and "Pk 0.90 [0.60–0.98]" in text
               and "€4,444 per intercept" in text for text in hovered), hovered
    # zoom, and the camera button that saves a PNG for reports
    assert chart.locator(".modebar-btn[data-title='Zoom']").count() == 1
    assert page.get_attribute("#sessions a", "href") == f"/sessions/{scored['session']}"
    shot(page, "charts-dashboard")
    chart.hover()  # the toolbar shows on hover
    with page.expect_download() as saved:
        chart.locator(".modebar-btn[data-title='Download plot as a PNG']").click()
    assert saved.value.suggested_filename == "cost-vs-pk-shahed_raid.png"
    assert Path(saved.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{live_url}/static/plotly.min.js" in fetched
    elsewhere = [url for url in fetched if url.startswith("http") and not url.startswith(
        live_url)]
    assert elsewhere == []  # nothing from a CDN (the PNG itself is a data: URL)


def test_prototype_page_plots_cost_by_version_and_the_track(live_url, page, scored) -> None:
    log_in(page, live_url, scored["reviewer"].name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{scored['prototype']['id']}")
    plotted(page)
    cost = page.locator("div.plot[data-filename=cost-by-version]")
    track = page.locator(f"div.plot[data-filename=session-{scored['session']}-track]")
    assert titles(cost, "x") == ["version"] and titles(cost, "y") == [
        "cost per intercept (EUR)"]
    assert cost.locator(".legendtext").all_text_contents() == ["cost per intercept"]
    assert cost.locator(".textpoint").all_text_contents() == ["€6,667", "€4,444"]
    assert titles(track, "x") == ["east (m)"] and titles(track, "y") == ["north (m)"]
    assert track.locator(".legendtext").all_text_contents() == ["system 1"]
    scale = track.locator(".annotation-text").text_content()
    assert scale.endswith(" m") and float(scale.removesuffix(" m").replace(",", "")) > 0
    link = page.locator("a.session-link")
    assert link.get_attribute("href") == f"/sessions/{scored['session']}"
    shot(page, "charts-prototype")


def test_plotly_js_is_served_by_the_hub(client) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert b"plotly.js v" in response.content[:1000]
