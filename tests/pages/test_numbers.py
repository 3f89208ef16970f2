"""Numbers and names as people read them: the page filters, then the pages that use them."""

from decimal import Decimal

from hub.pages.words import count, count_of, criterion, eur, held_back, measure, status_words
from sandbox.models import SandboxStatus
from sandbox.readiness import CriterionResult


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
