"""Pure scoring: engagements in, Score out. No I/O.

Input frame columns: `trial_kind`, `outcome`, `interceptors_used`, `unit_cost_cents`,
`operating_cost_cents` (0 where none), `threat_cost_cents`, `time_to_intercept_s` (NaN where none).
"""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from sandbox.money import CENT

Z_95 = 1.959963984540054  # two-sided 95% normal quantile

ENGAGEMENT_COLUMNS = ("trial_kind", "outcome", "interceptors_used", "unit_cost_cents",
                      "operating_cost_cents", "threat_cost_cents", "time_to_intercept_s")


@dataclass(frozen=True)
class Score:
    engagements: int
    intercepts: int
    pk: float | None
    pk_low: float | None
    pk_high: float | None
    cost_per_intercept_eur: Decimal | None
    cost_exchange_ratio: float | None
    total_cost_eur: Decimal
    mean_threat_cost_eur: Decimal | None
    leak_rate: float | None
    fratricide_rate: float | None
    time_to_intercept_median_s: float | None
    time_to_intercept_p90_s: float | None


@dataclass(frozen=True)
class VersionScore:
    overall: Score
    by_trial_kind: dict[str, Score] = field(default_factory=dict)


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """95% Wilson score interval for a proportion; None when there is nothing to estimate."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At p = 0 or 1 the bound is exactly 0 or 1; floating point would leave 0.9999999999999999.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def _eur(cents: Decimal | int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT, ROUND_HALF_EVEN)


def _rate(count: int, n: int) -> float | None:
    return count / n if n else None


def score(engagements: pd.DataFrame) -> Score:
    """Score one set of engagements (any mix of trials)."""
    n = len(engagements)
    outcome = engagements["outcome"].astype(str).to_numpy()
    intercepts = int(np.count_nonzero(outcome == "intercept"))
    # Integer cents all the way: the only division is the final one, done in Decimal.
    spent = (engagements["interceptors_used"].to_numpy(np.int64)
             * engagements["unit_cost_cents"].to_numpy(np.int64)).sum()
    total_cents = int(spent) + int(engagements["operating_cost_cents"].to_numpy(np.int64).sum())
    threat_cents = int(engagements["threat_cost_cents"].to_numpy(np.int64).sum())
    cost_per_intercept = _eur(Decimal(total_cents) / intercepts) if intercepts else None
    mean_threat = _eur(Decimal(threat_cents) / n) if n else None
    ratio = (float(Decimal(total_cents) / intercepts / (Decimal(threat_cents) / n))
             if intercepts and threat_cents else None)
    interval = wilson_interval(intercepts, n)
    tti = engagements["time_to_intercept_s"].to_numpy(float)
    tti = tti[(outcome == "intercept") & ~np.isnan(tti)]
    return Score(
        engagements=n,
        intercepts=intercepts,
        pk=_rate(intercepts, n),
        pk_low=interval[0] if interval else None,
        pk_high=interval[1] if interval else None,
        cost_per_intercept_eur=cost_per_intercept,
        cost_exchange_ratio=ratio,
        total_cost_eur=_eur(total_cents),
        mean_threat_cost_eur=mean_threat,
        leak_rate=_rate(int(np.isin(outcome, ("miss", "abort")).sum()), n),
        fratricide_rate=_rate(int(np.count_nonzero(outcome == "fratricide")), n),
        time_to_intercept_median_s=float(np.median(tti)) if tti.size else None,
        time_to_intercept_p90_s=float(np.percentile(tti, 90)) if tti.size else None,
    )


def score_version(engagements: pd.DataFrame) -> VersionScore:
    """Overall score plus one per trial kind present."""
    by_kind = {str(kind): score(group)
               for kind, group in engagements.groupby("trial_kind", sort=True)}
    return VersionScore(overall=score(engagements), by_trial_kind=by_kind)


def empty_engagements() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="float64" if column == "time_to_intercept_s"
                                           else "int64" if "cost" in column or "used" in column
                                           else "object")
                         for column in ENGAGEMENT_COLUMNS})
