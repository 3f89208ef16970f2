import pytest

from sandbox.coverage import (
    coverage_rows,
    engagements_needed,
    gate_needs,
    threat_kinds_missing,
)
from sandbox.readiness import Evidence, evaluate_gate
from sandbox.scoring import Tally, VersionScore, score, wilson_interval

LIBRARY = [("shahed_raid", "shahed_136"), ("fpv_swarm", "fpv_strike")]


def scored(n: int, intercepts: int):
    return score(Tally(engagements=n, intercepts=intercepts, interceptors_used=n,
                       threat_cost_cents=n * 3_500_000), unit_cost_cents=400_000)


def test_rows_list_the_library_and_what_soldiers_named() -> None:
    scores = {"shahed_raid": {"shahed_136": {"simulation": scored(200, 150),
                                             "field": scored(12, 9)}},
              "night_raid": {"shahed_136": {"simulator": scored(5, 2)}}}
    rows = coverage_rows(scores, LIBRARY)
    assert [(r.scenario, r.threat_kind, r.in_library, r.engagements, r.covered) for r in rows] == [
        ("fpv_swarm", "fpv_strike", True, {"simulation": 0, "simulator": 0, "field": 0}, False),
        ("night_raid", "shahed_136", False, {"simulation": 0, "simulator": 5, "field": 0}, True),
        ("shahed_raid", "shahed_136", True, {"simulation": 200, "simulator": 0, "field": 12},
         True)]
    assert threat_kinds_missing(scores, ["shahed_136", "fpv_strike", "recon_quad"]) == [
        "fpv_strike", "recon_quad"]


@pytest.mark.parametrize("intercepts, n, required", [(72, 100, 0.7), (30, 40, 0.6),
                                                     (9, 10, 0.7), (550, 1000, 0.53)])
def test_engagements_needed_is_the_fewest_that_lift_the_bound(intercepts, n, required) -> None:
    more = engagements_needed(intercepts, n, required)
    pk = intercepts / n

    def low(extra: int) -> float:
        total = n + extra
        return wilson_interval(round(pk * total), total)[0]
    assert low(more) >= required > low(more - 1)


def test_no_number_of_engagements_lifts_a_pk_at_or_below_the_line() -> None:
    assert engagements_needed(50, 100, 0.5) is None
    assert engagements_needed(0, 0, 0.5) is None
    assert engagements_needed(99, 100, 0.5) == 0  # already there


def test_gate_needs_say_how_far_each_criterion_is() -> None:
    by_kind = {"simulation": scored(120, 90)}
    evidence = Evidence.of(VersionScore(overall=scored(120, 90), by_trial_kind=by_kind),
                           open_safety_findings=2, reports=1)
    gate = evaluate_gate(evidence, {"min_simulation_engagements": 200,
                                    "min_simulation_pk_low": 0.7, "min_field_pk_low": 0.6,
                                    "max_open_safety_findings": 0, "min_reports": 3,
                                    "max_cost_exchange_ratio": 1.0})
    needs = {n.criterion.name: n for n in gate_needs(gate, by_kind)}
    assert set(needs) == {"min_simulation_engagements", "min_simulation_pk_low",
                          "min_field_pk_low", "max_open_safety_findings", "min_reports"}
    count = needs["min_simulation_engagements"]
    assert (count.shape, count.short_by, count.trial_kind) == ("count", 80, "simulation")
    pk_low = needs["min_simulation_pk_low"]
    assert pk_low.shape == "at_least" and pk_low.short_by == pytest.approx(
        0.7 - wilson_interval(90, 120)[0])
    assert pk_low.more_engagements == engagements_needed(90, 120, 0.7) > 0
    assert needs["min_field_pk_low"].short_by is None  # no field evidence at all
    assert (needs["max_open_safety_findings"].shape,
            needs["max_open_safety_findings"].short_by) == ("at_most", 2)
    assert needs["min_reports"].short_by == 2
