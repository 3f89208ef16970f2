"""Numbers and names as people read them: the page filters, then the pages that use them."""

from decimal import Decimal

import pytest

from hub.pages.words import count, count_of, criterion, eur, held_back, measure, status_words
from sandbox.models import Role, SandboxStatus
from sandbox.readiness import CriterionResult
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot


def test_counts_have_thousands_separators_and_no_exponent() -> None:
    assert count(12500.0) == "12,500"
    assert count(1200536) == "1,200,536"
    assert count(Decimal("7")) == "7"
    assert count(None) == "–"
    assert count_of(1, "report") == "1 report"
    assert count_of(12500, "engagement") == "12,500 engagements"
    assert count_of(2, "batch", "batches") == "2 batches"
    assert eur(Decimal("1234.56")) == "1,235 EUR"


def test_statuses_and_measures_are_words() -> None:
    assert status_words(SandboxStatus.sim_trialled) == "sim trialled"
    assert status_words("field_trial_authorised") == "field trial authorised"
    assert measure("min_simulation_pk_low") == "Pk (95 % lower bound), simulation trials"
    assert measure("min_field_pd_low_within_2000_m") == ("Pd (95 % lower bound) within 2,000 m, "
                                                         "field trials")
    assert measure("max_cost_exchange_ratio") == "Cost-exchange ratio"


def test_a_criterion_reads_as_a_sentence() -> None:
    many = CriterionResult("min_simulation_engagements", 200, 12500.0, True, "")
    assert criterion(many) == "Engagements, simulation trials: 12,500 meets ≥ 200"
    low = CriterionResult("min_simulation_pk_low", 0.5, 0.4567, False, "")
    assert criterion(low) == "Pk (95 % lower bound), simulation trials: 0.46 fails ≥ 0.5"
    none = CriterionResult("min_reports", 3, None, False, "")
    assert criterion(none) == "Soldiers' reports: no evidence yet (needs 3)"


def test_what_is_held_back_is_said_with_when_it_will_be_released() -> None:
    from sandbox.feedback import HeldBack

    assert held_back(HeldBack(engagements=0, reports=0, people=0, needed_people=5)) == "nothing"
    assert held_back(HeldBack(engagements=1200, reports=1, people=2, needed_people=5)) == (
        "1 report and 1,200 engagements from 2 soldiers: released once 5 different soldiers "
        "have new feedback (2 of 5 so far)")


@pytest.mark.browser
def test_pages_show_counts_statuses_and_criteria_in_words(live_url, page, client,
                                                          make_user) -> None:
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"], unit_cost_eur=12500)
    trial = new_trial(client, reviewer, version["id"], kind="simulation")
    add_engagements(client, reviewer, trial["id"], [engagement()] * 10_000 + [engagement(
        outcome="miss", time_to_intercept_s=None)] * 2_500)
    for step in ("admitted", "sim_trialled"):
        answer = client.post(f"/api/v1/prototypes/{prototype['id']}/decisions",
                             headers=auth(reviewer), json={"to_status": step,
                                                           "rationale": "evidence reviewed"})
        assert answer.status_code == 201, answer.text
    log_in(page, live_url, reviewer.name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{prototype['id']}")
    assert page.inner_text("#status") == "sim trialled"
    assert "admitted → sim trialled" in page.inner_text("#decisions")
    row = page.locator("#versions tbody tr").first.inner_text().split("\t")
    assert row[2:4] == ["12,500 EUR", "12,500"]
    assert page.inner_text("#trials tbody td:nth-child(4)") == "10,000 intercept, 2,500 miss"
    text = page.inner_text("main")
    assert "Engagements, simulation trials: 12,500 meets ≥ 500" in text
    assert "Pk (95 % lower bound), simulation trials: 0.79 meets ≥ 0.65" in text
    assert "e+0" not in text and "pk low" not in text and "sim_trialled" not in text
    assert page.inner_text("#reports") == "No report yet."
    shot(page, "numbers-prototype")
    page.goto(f"{live_url}/versions/{version['id']}/coverage")
    assert "12,500" in page.inner_text("#engagements-simulation")
    assert "e+0" not in page.inner_text("main")
    shot(page, "numbers-coverage")
