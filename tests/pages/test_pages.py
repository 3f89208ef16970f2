import pytest

from sandbox.models import Role
from tests.conftest import PASSWORD
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def world(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    reviewer = make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"], unit_cost_eur=4000)
    trial = new_trial(client, soldier, version["id"])
    add_engagements(client, soldier, trial["id"], [engagement()] * 3 + [engagement(
        outcome="miss")])
    return {"engineer": engineer, "soldier": soldier, "reviewer": reviewer,
            "prototype": prototype, "version": version}


def test_soldier_logs_a_trial_and_the_dashboard_shows_the_new_score(live_url, page,
                                                                    world) -> None:
    log_in(page, live_url, world["soldier"].name, PASSWORD)
    assert page.url.endswith("/log")
    page.select_option("#version_id", str(world["version"]["id"]))
    page.select_option("#kind", "simulator")
    page.fill("#scenario", "shahed_raid")
    page.fill("#intercept", "5")
    page.fill("#miss", "0")
    page.click("button:has-text('Record trial')")
    # a simulator trial without its simulator: the error sits by the field, input is kept
    assert "name the external simulator" in page.inner_text("#simulator-error")
    assert page.input_value("#intercept") == "5"
    shot(page, "soldier-log-error")
    page.fill("#simulator", "VBS4")
    page.fill("#effectiveness", "4")
    page.fill("#ease_of_use", "5")
    page.fill("#reliability", "4")
    page.click("button:has-text('Record trial')")
    assert "recorded" in page.inner_text("#logged")
    shot(page, "soldier-log")
    page.click("button:has-text('Log out')")

    log_in(page, live_url, world["reviewer"].name, PASSWORD)
    assert page.url.endswith("/dashboard")
    row = page.locator("#leaderboard tr", has_text="Hornet")
    # 3 + 5 intercepts of 9 engagements at 4,000 EUR each: 4,500 EUR per intercept
    assert "9" in row.inner_text() and "4,500" in row.inner_text()
    page.wait_for_selector("body[data-plotted=yes]", timeout=60_000)
    assert page.locator("div.plot .scatterlayer .point").count() >= 1
    shot(page, "reviewer-dashboard")


def test_reviewer_admits_a_prototype(live_url, page, world) -> None:
    log_in(page, live_url, world["reviewer"].name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{world['prototype']['id']}")
    page.select_option("#to_status", "admitted")
    page.fill("#rationale", "short")
    page.click("button:has-text('Record decision')")
    assert "at least 10 characters" in page.inner_text("#rationale-error")
    page.fill("#rationale", "complete dossier, safety case reviewed")
    page.click("button:has-text('Record decision')")
    assert page.inner_text("#status") == "admitted"
    assert "submitted → admitted" in page.inner_text("#decisions")
    shot(page, "prototype-page")


def test_engineer_cannot_open_another_companys_prototype(live_url, page, world,
                                                          make_user) -> None:
    outsider = make_user(Role.engineer)
    log_in(page, live_url, outsider.name, PASSWORD)
    assert page.url.endswith("/engineer")
    response = page.goto(f"{live_url}/prototypes/{world['prototype']['id']}")
    assert response is not None and response.status == 404
    assert "Hornet" not in page.content()
    shot(page, "engineer-refused")
    log_in(page, live_url, world["engineer"].name, PASSWORD)
    assert "Hornet" in page.inner_text("#prototypes")
    shot(page, "engineer-page")


def test_pages_need_a_session_and_forms_a_csrf_token(live_url, page, world) -> None:
    response = page.goto(f"{live_url}/dashboard")
    assert page.url.endswith("/login")
    log_in(page, live_url, world["soldier"].name, PASSWORD)
    forged = page.request.post(f"{live_url}/log", form={"csrf": "forged", "intercept": "1"})
    assert forged.status == 403
    assert response is not None
