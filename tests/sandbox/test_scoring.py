import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.scoring import (
    TIME_BIN_EDGES_S,
    TIME_QUANTILE_RELATIVE_ERROR,
    Condition,
    Tally,
    score,
    score_version,
    tally_by_threat_kind,
    time_bin,
    time_quantiles_s,
    total,
    wilson_interval,
)


def frame(rows: list[dict]) -> pd.DataFrame:
    defaults = {"threat_kind": "shahed_136", "interceptors_used": 1, "operating_cost_cents": None,
                "threat_cost_cents": 3_500_000, "time_to_intercept_s": np.nan}
    return pd.DataFrame([{**defaults, **row} for row in rows])


def tally(n: int, *, intercepts: int, threat_cost_cents: int = 3_500_000, **extra) -> Tally:
    rows = frame([{"outcome": "intercept" if i < intercepts else "miss",
                   "threat_cost_cents": threat_cost_cents, **extra} for i in range(n)])
    return tally_by_threat_kind(rows)["shahed_136"]


def test_patriot_against_shahed_is_85_to_1() -> None:
    result = score(tally(10, intercepts=10), unit_cost_cents=300_000_000)
    assert result.cost_per_intercept_eur == Decimal("3000000.00")
    assert result.mean_threat_cost_eur == Decimal("35000.00")
    assert result.cost_exchange_ratio == pytest.approx(3_000_000 / 35_000)
    assert round(result.cost_exchange_ratio, 1) == 85.7


def test_interceptor_drone_wins_the_economics() -> None:
    # $4k interceptor drones downing 7 of 10 $35k drones: 40,000 / 7 per intercept.
    result = score(tally(10, intercepts=7), unit_cost_cents=400_000)
    assert result.pk == pytest.approx(0.7)
    assert result.cost_per_intercept_eur == Decimal("5714.29")
    assert result.cost_exchange_ratio == pytest.approx(40_000 / 7 / 35_000)
    assert result.cost_exchange_ratio < 1
    assert result.leak_rate == pytest.approx(0.3)


def test_the_unit_cost_is_the_versions_at_read_time_not_the_tallys() -> None:
    counted = tally(4, intercepts=2)
    assert score(counted, unit_cost_cents=100).cost_per_intercept_eur == Decimal("2.00")
    assert score(counted, unit_cost_cents=300).cost_per_intercept_eur == Decimal("6.00")


def test_wilson_interval_matches_hand_computation() -> None:
    low, high = wilson_interval(7, 10)
    # p=0.7, z=1.96: centre 0.6598, half-width 0.2485 (hand computed)
    assert low == pytest.approx(0.3968, abs=1e-4)
    assert high == pytest.approx(0.8922, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 0) is None


def test_no_intercept_gives_null_cost_not_an_error() -> None:
    result = score(tally(5, intercepts=0, threat_cost_cents=1), unit_cost_cents=100_000)
    assert result.intercepts == 0
    assert result.pk == 0.0
    assert result.cost_per_intercept_eur is None
    assert result.cost_exchange_ratio is None
    assert result.total_cost_eur == Decimal("5000.00")


def test_empty_tally_scores_nothing() -> None:
    result = score(Tally(), unit_cost_cents=100)
    assert (result.engagements, result.pk, result.pk_low, result.leak_rate) == (0, None, None, None)
    assert result.total_cost_eur == Decimal("0.00")
    assert result.time_to_intercept_median_s is None


def test_operating_costs_and_salvos_count_in_cost_per_intercept() -> None:
    # 2 intercepts; spend = 3 x 1,000.00 + 2 x 1,000.00 interceptors + 50.00 + 50.00 operating
    data = frame([
        {"outcome": "intercept", "interceptors_used": 3, "operating_cost_cents": 5_000,
         "threat_cost_cents": 2_000_000, "time_to_intercept_s": 10.0},
        {"outcome": "intercept", "interceptors_used": 2, "operating_cost_cents": 5_000,
         "threat_cost_cents": 2_000_000, "time_to_intercept_s": 30.0},
        {"outcome": "fratricide", "interceptors_used": 0, "threat_cost_cents": 2_000_000},
    ])
    result = score(tally_by_threat_kind(data)["shahed_136"], unit_cost_cents=100_000)
    assert result.total_cost_eur == Decimal("5100.00")
    assert result.cost_per_intercept_eur == Decimal("2550.00")
    assert result.fratricide_rate == pytest.approx(1 / 3)
    assert result.leak_rate == 0.0
    # nearest rank: the median of two is the first, the 90th percentile the second
    assert result.time_to_intercept_median_s == pytest.approx(10.0, rel=0.045)
    assert result.time_to_intercept_p90_s == pytest.approx(30.0, rel=0.045)


def test_cost_per_intercept_rounds_half_even_to_cents() -> None:
    result = score(tally(3, intercepts=3, threat_cost_cents=100), unit_cost_cents=1)
    assert result.cost_per_intercept_eur == Decimal("0.01")


def test_engagements_are_tallied_per_threat_kind() -> None:
    data = frame([{"outcome": "intercept", "threat_kind": "fpv_strike"},
                  {"outcome": "abort", "threat_kind": "shahed_136", "interceptors_used": 2,
                   "operating_cost_cents": 700},
                  {"outcome": "miss", "threat_kind": "shahed_136"}])
    found = tally_by_threat_kind(data)
    assert found["fpv_strike"] == Tally(engagements=1, intercepts=1, interceptors_used=1,
                                        threat_cost_cents=3_500_000)
    assert found["shahed_136"] == Tally(engagements=2, misses=1, aborts=1, interceptors_used=3,
                                        operating_cost_cents=700, threat_cost_cents=7_000_000)


def test_tallies_add_up_like_the_engagements_they_count() -> None:
    rows = frame([{"outcome": "intercept", "time_to_intercept_s": float(t)}
                  for t in range(1, 41)] + [{"outcome": "miss"}] * 5)
    whole = tally_by_threat_kind(rows)["shahed_136"]
    parts = [tally_by_threat_kind(rows.iloc[i:i + 7])["shahed_136"] for i in range(0, 45, 7)]
    assert total(parts) == whole


def test_time_bins_follow_the_stated_edges() -> None:
    assert TIME_BIN_EDGES_S[:2] == (0.0, 0.1)
    assert TIME_BIN_EDGES_S[9] == pytest.approx(0.2)  # eight bins an octave
    assert TIME_BIN_EDGES_S[-1] > 86_400
    assert time_bin(np.array([0.0, 0.0999, 0.1, 0.2, 86_400.0])).tolist() == [0, 0, 1, 9, 158]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=86_400.0, allow_nan=False), min_size=1,
                max_size=300),
       st.sampled_from([0.5, 0.9]))
def test_time_quantiles_are_within_the_stated_bound(times: list[float], q: float) -> None:
    bins = np.bincount(time_bin(np.array(times)))
    histogram = tuple((i, int(n)) for i, n in enumerate(bins) if n)
    exact = sorted(times)[max(1, math.ceil(q * len(times) - 1e-9)) - 1]
    [found] = time_quantiles_s(histogram, (q,))
    assert found is not None
    if exact < 0.1:
        assert abs(found - exact) <= 0.05
    else:
        assert abs(found - exact) <= TIME_QUANTILE_RELATIVE_ERROR * exact * (1 + 1e-12)


def test_score_version_keeps_every_condition_apart() -> None:
    sim = Condition("simulation", "shahed_raid", "shahed_136")
    fpv = Condition("simulation", "fpv_swarm", "fpv_strike")
    field = Condition("field", "shahed_raid", "shahed_136")
    result = score_version({sim: tally(4, intercepts=2), fpv: tally(10, intercepts=1),
                            field: tally(2, intercepts=2)}, unit_cost_cents=100)
    assert result.overall.engagements == 16
    assert result.by_trial_kind["simulation"].engagements == 14
    assert result.by_scenario["shahed_raid"]["shahed_136"]["simulation"].pk == 0.5
    assert result.by_scenario["shahed_raid"]["shahed_136"]["field"].pk == 1.0
    assert result.by_scenario["fpv_swarm"]["fpv_strike"]["simulation"].pk == 0.1
    assert list(result.by_scenario) == ["fpv_swarm", "shahed_raid"]
