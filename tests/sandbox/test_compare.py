from decimal import Decimal

import pytest

from sandbox.compare import (
    Change,
    ParameterChange,
    compare_scores,
    cost_interval_eur,
    parameter_diff,
    pk_difference_interval,
)
from sandbox.scoring import Tally, score


def scored(n: int, intercepts: int, *, unit_cost_cents: int = 400_000):
    return score(Tally(engagements=n, intercepts=intercepts, misses=n - intercepts,
                       interceptors_used=n, threat_cost_cents=n * 3_500_000),
                 unit_cost_cents=unit_cost_cents)


def test_nested_parameters_are_diffed_by_path() -> None:
    before = {"speed_mps": 80, "pid": {"roll": {"p": 0.15, "i": 0.1}}, "salvo": 1,
              "modes": ["loiter", "rtl"], "old": True}
    after = {"speed_mps": 80.0, "pid": {"roll": {"p": 0.2, "i": 0.1, "d": 0.01}},
             "salvo": 2, "modes": ["loiter"], "guidance": "pure_pursuit"}
    assert parameter_diff(before, after) == [
        ParameterChange("guidance", Change.added, after="pure_pursuit"),
        ParameterChange("modes[0]", Change.same, "loiter", "loiter"),
        ParameterChange("modes[1]", Change.removed, before="rtl"),
        ParameterChange("old", Change.removed, before=True),
        ParameterChange("pid.roll.d", Change.added, after=0.01),
        ParameterChange("pid.roll.i", Change.same, 0.1, 0.1),
        ParameterChange("pid.roll.p", Change.changed, 0.15, 0.2),
        ParameterChange("salvo", Change.changed, 1, 2),
        ParameterChange("speed_mps", Change.same, 80, 80.0),  # the same setting, written as float
    ]


def test_a_flag_is_not_the_number_one_and_a_subtree_can_replace_a_value() -> None:
    changes = {c.path: c for c in parameter_diff({"armed": 1, "gps": "ublox"},
                                                 {"armed": True, "gps": {"model": "ublox"}})}
    assert changes["armed"].change == Change.changed
    assert changes["gps"].change == Change.removed
    assert changes["gps.model"].change == Change.added


def test_empty_documents_differ_in_nothing() -> None:
    assert parameter_diff({}, {}) == []
    assert parameter_diff({}, {"a": {}}) == [ParameterChange("a", Change.added, after={})]


def test_pk_difference_interval_matches_newcombe_1998() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II, method 10: 56/70 − 48/80
    assert pk_difference_interval(scored(80, 48), scored(70, 56)) == pytest.approx(
        (0.0524, 0.3339), abs=1e-4)
    # 0/10 − 0/10: (−0.2775, 0.2775)
    assert pk_difference_interval(scored(10, 0), scored(10, 0)) == pytest.approx(
        (-0.2775, 0.2775), abs=1e-4)
    assert pk_difference_interval(scored(0, 0), scored(10, 5)) is None


def test_cost_interval_follows_pk_interval() -> None:
    # 10 engagements, one 4,000 EUR interceptor each: 4,000 EUR an engagement
    item = scored(10, 5)
    low, high = cost_interval_eur(item)
    assert low == (Decimal(4000) / Decimal(repr(item.pk_high))).quantize(Decimal("0.01"))
    assert high == (Decimal(4000) / Decimal(repr(item.pk_low))).quantize(Decimal("0.01"))
    assert low < item.cost_per_intercept_eur == Decimal("8000.00") < high
    assert cost_interval_eur(scored(10, 0))[1] is None  # Pk could be 0: no upper bound


def test_scores_are_compared_condition_by_condition() -> None:
    a = {"shahed_raid": {"shahed_136": {"simulation": scored(100, 60),
                                        "field": scored(10, 5)}}}
    b = {"shahed_raid": {"shahed_136": {"simulation": scored(100, 80)}},
         "fpv_swarm": {"fpv_strike": {"simulation": scored(50, 10)}}}
    rows = compare_scores(a, b)
    assert [(r.scenario, r.threat_kind, r.trial_kind) for r in rows] == [
        ("fpv_swarm", "fpv_strike", "simulation"), ("shahed_raid", "shahed_136", "field"),
        ("shahed_raid", "shahed_136", "simulation")]
    new, gone, both = rows
    assert new.a is None and new.pk_difference is None and new.pk_verdict == "unclear"
    assert gone.b is None and gone.cost_difference_eur is None
    assert both.pk_difference == pytest.approx(0.2)
    assert both.pk_verdict == "better"  # 80/100 against 60/100: the interval excludes 0
    # 4,000 EUR per engagement: 6,666.67 → 5,000.00 per intercept
    assert both.cost_difference_eur == Decimal("-1666.67")
    assert both.cost_change == pytest.approx(-0.25, abs=1e-4)
