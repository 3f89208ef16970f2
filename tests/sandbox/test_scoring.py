from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sandbox.scoring import empty_engagements, score, score_version, wilson_interval


def frame(rows: list[dict]) -> pd.DataFrame:
    defaults = {"trial_kind": "field", "interceptors_used": 1, "operating_cost_cents": 0,
                "time_to_intercept_s": np.nan}
    return pd.DataFrame([{**defaults, **row} for row in rows])


def engagements(n: int, *, intercepts: int, unit_cost_cents: int, threat_cost_cents: int,
                **extra: object) -> pd.DataFrame:
    return frame([{"outcome": "intercept" if i < intercepts else "miss",
                   "unit_cost_cents": unit_cost_cents, "threat_cost_cents": threat_cost_cents,
                   **extra} for i in range(n)])


def test_patriot_against_shahed_is_85_to_1() -> None:
    result = score(engagements(10, intercepts=10, unit_cost_cents=300_000_000,
                               threat_cost_cents=3_500_000))
    assert result.cost_per_intercept_eur == Decimal("3000000.00")
    assert result.mean_threat_cost_eur == Decimal("35000.00")
    assert result.cost_exchange_ratio == pytest.approx(3_000_000 / 35_000)
    assert round(result.cost_exchange_ratio, 1) == 85.7


def test_interceptor_drone_wins_the_economics() -> None:
    # $4k interceptor drones downing 7 of 10 $35k drones: 40,000 / 7 per intercept.
    result = score(engagements(10, intercepts=7, unit_cost_cents=400_000,
                               threat_cost_cents=3_500_000))
    assert result.pk == pytest.approx(0.7)
    assert result.cost_per_intercept_eur == Decimal("5714.29")
    assert result.cost_exchange_ratio == pytest.approx(40_000 / 7 / 35_000)
    assert result.cost_exchange_ratio < 1
    assert result.leak_rate == pytest.approx(0.3)


def test_wilson_interval_matches_hand_computation() -> None:
    low, high = wilson_interval(7, 10)
    # p=0.7, z=1.96: centre 0.6598, half-width 0.2485 (hand computed)
    assert low == pytest.approx(0.3968, abs=1e-4)
    assert high == pytest.approx(0.8922, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 0) is None


def test_no_intercept_gives_null_cost_not_an_error() -> None:
    result = score(engagements(5, intercepts=0, unit_cost_cents=100_000, threat_cost_cents=1))
    assert result.intercepts == 0
    assert result.pk == 0.0
    assert result.cost_per_intercept_eur is None
    assert result.cost_exchange_ratio is None
    assert result.total_cost_eur == Decimal("5000.00")


def test_empty_input_scores_nothing() -> None:
    result = score(empty_engagements())
    assert (result.engagements, result.pk, result.pk_low, result.leak_rate) == (0, None, None, None)
    assert result.total_cost_eur == Decimal("0.00")


def test_operating_costs_and_salvos_count_in_cost_per_intercept() -> None:
    # 2 intercepts; spend = 3 x 1,000.00 + 2 x 1,000.00 interceptors + 50.00 + 50.00 operating
    data = frame([
        {"outcome": "intercept", "interceptors_used": 3, "unit_cost_cents": 100_000,
         "operating_cost_cents": 5_000, "threat_cost_cents": 2_000_000,
         "time_to_intercept_s": 10.0},
        {"outcome": "intercept", "interceptors_used": 2, "unit_cost_cents": 100_000,
         "operating_cost_cents": 5_000, "threat_cost_cents": 2_000_000,
         "time_to_intercept_s": 30.0},
        {"outcome": "fratricide", "interceptors_used": 0, "unit_cost_cents": 100_000,
         "threat_cost_cents": 2_000_000},
    ])
    result = score(data)
    assert result.total_cost_eur == Decimal("5100.00")
    assert result.cost_per_intercept_eur == Decimal("2550.00")
    assert result.fratricide_rate == pytest.approx(1 / 3)
    assert result.leak_rate == 0.0
    assert result.time_to_intercept_median_s == pytest.approx(20.0)
    assert result.time_to_intercept_p90_s == pytest.approx(28.0)


def test_cost_per_intercept_rounds_half_even_to_cents() -> None:
    result = score(engagements(3, intercepts=3, unit_cost_cents=1, threat_cost_cents=100))
    assert result.cost_per_intercept_eur == Decimal("0.01")


def test_score_version_splits_by_trial_kind() -> None:
    data = pd.concat([
        engagements(4, intercepts=2, unit_cost_cents=100, threat_cost_cents=1000,
                    trial_kind="simulation"),
        engagements(2, intercepts=2, unit_cost_cents=100, threat_cost_cents=1000,
                    trial_kind="field"),
    ])
    result = score_version(data)
    assert result.overall.engagements == 6
    assert result.overall.intercepts == 4
    assert set(result.by_trial_kind) == {"simulation", "field"}
    assert result.by_trial_kind["simulation"].pk == 0.5
    assert result.by_trial_kind["field"].pk == 1.0
