import pytest

from sandbox.models import Role
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot
from tests.telemetry.flights import Flight

pytestmark = pytest.mark.browser


def upload_flight(client, soldier, trial_id: int, seconds: float) -> None:
    flight = Flight(position=lambda t: (50.0 + t * 1e-5, 4.0, 200.0 + t), unix_start_s=1.8e9)
    response = client.post(f"/api/v1/trials/{trial_id}/telemetry", content=flight.tlog(seconds),
                           headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert response.status_code == 201, response.text


@pytest.fixture
def evidence(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    reviewer = make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"])
    simulated = new_trial(client, reviewer, version["id"], kind="simulation")
    add_engagements(client, reviewer, simulated["id"], [engagement()] * 120 + [engagement(
        outcome="miss", time_to_intercept_s=None)] * 30)
    field = new_trial(client, soldier, version["id"], lat=50.0, lon=4.0)
    add_engagements(client, soldier, field["id"], [engagement()] * 9 + [engagement(
        outcome="miss", time_to_intercept_s=None)] * 3)
    upload_flight(client, soldier, field["id"], 180)
    response = client.post(f"/api/v1/trials/{field['id']}/reports", headers=auth(soldier),
                           json={"effectiveness": 4, "ease_of_use": 3, "reliability": 4,
                                 "text": "held its line in gusts"})
    assert response.status_code == 201, response.text
    return {"engineer": engineer, "soldier": soldier, "reviewer": reviewer,
            "prototype": prototype, "version": version}


def figure(page, name: str) -> str:
    return page.inner_text(f"#{name} strong")


def coverage_cells(page, scenario: str) -> list[str]:
    return page.locator("#coverage tr", has_text=scenario).locator("td").all_inner_texts()


def test_reviewer_sees_coverage_flight_hours_and_what_gates_need(live_url, page,
                                                                  evidence) -> None:
    log_in(page, live_url, evidence["reviewer"].name, PASSWORD)
    page.goto(f"{live_url}/versions/{evidence['version']['id']}/coverage")
    assert figure(page, "engagements-simulation") == "150"
    assert figure(page, "engagements-simulator") == "0"
    assert figure(page, "engagements-field") == "12"
    assert figure(page, "reports") == "1"
    rows = {r.split("\t")[0]: r.split("\t")[1:] for r in page.locator(
        "#task-force tbody tr").all_inner_texts()}
    # one field trial whose flight ran 180 s: 0.05 h
    assert rows == {"simulation": ["1", "0.00"], "simulator": ["0", "0.00"],
                    "field": ["1", "0.05"], "all": ["2", "0.05"]}
    assert coverage_cells(page, "shahed_raid") == ["shahed_raid", "shahed_136", "150", "none",
                                                   "12"]
    assert coverage_cells(page, "fpv_swarm") == ["fpv_swarm", "fpv_strike", "none", "none",
                                                 "none"]
    assert page.inner_text("#threats-missing") == (
        "Threat kinds of the library with no engagement yet: cruise_missile, fpv_strike, "
        "recon_quad.")
    # the default sim_trialled gate: 200 simulation engagements, Pk's lower bound 0.5
    sim_gate = page.inner_text("#gate-sim_trialled")
    assert "not met" in sim_gate and "needs 50 more from simulation trials." in sim_gate
    assert "Pk (95 % lower bound)" not in sim_gate  # 120 of 150 meets it: only the count is missing
    ready = page.inner_text("#gate-ready")
    assert "needs 88 more from field trials." in ready  # interceptor drones: 100 in the field
    assert "needs 4 more." in ready  # reports: 5 for interceptor drones
    shot(page, "coverage-reviewer")


def test_engineer_sees_coverage_without_trials_and_others_are_refused(
        live_url, page, evidence, make_user) -> None:
    url = f"{live_url}/versions/{evidence['version']['id']}/coverage"
    log_in(page, live_url, evidence["engineer"].name, PASSWORD)
    page.goto(url)
    # one soldier's field trial waits for a released feedback batch (k people); the task
    # force's simulation is live (tests/hub/test_engineer_release_scores.py)
    assert figure(page, "engagements-field") == "0"
    assert figure(page, "reports") == "0"
    assert page.locator("#task-force").count() == 0
    assert "stay with the task force" in page.inner_text("#task-force-only")
    assert coverage_cells(page, "shahed_raid")[2:] == ["150", "none", "none"]
    shot(page, "coverage-engineer")
    page.context.clear_cookies()
    log_in(page, live_url, make_user(Role.engineer).name, PASSWORD)
    assert page.goto(url).status == 404 and "Hornet" not in page.content()
    page.context.clear_cookies()
    log_in(page, live_url, evidence["soldier"].name, PASSWORD)
    assert page.goto(url).status == 403
