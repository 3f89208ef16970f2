"""Pure scoring: aggregates in, Score out. No I/O.

Evidence is tallied by condition (trial kind × scenario × threat kind) of a version. A `Tally`
holds what is summed as engagements arrive — counts by outcome, interceptors used, operating
and threat costs in cents, and a histogram of time to intercept — so tallies merge by
addition and a score never needs the engagements themselves. The unit cost is not in the
tally: it is the version's, read when scoring.

Time to intercept is binned on fixed edges: bin 0 is [0, 0.1 s), then bin i ≥ 1 is
[0.1 s × 2^((i−1)/8), 0.1 s × 2^(i/8)), eight bins an octave, the last one open above
0.1 s × 2^(158/8) ≈ 88,174 s (beyond the 86,400 s an engagement may last). The median and 90th
percentile are the nearest-rank sample quantiles, reported as the geometric middle of the bin
holding them (0.05 s for bin 0): within 2^(1/16) − 1 ≈ 4.4 % of the exact nearest-rank value,
or 0.05 s below 0.1 s.
"""

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from itertools import accumulate

import numpy as np
import pandas as pd

from sandbox.money import CENT

Z_95 = 1.959963984540054  # two-sided 95% normal quantile

BINS_PER_OCTAVE = 8
FIRST_EDGE_S = 0.1
TIME_BIN_EDGES_S = (0.0, *(FIRST_EDGE_S * 2 ** (i / BINS_PER_OCTAVE) for i in range(159)))
TIME_QUANTILE_RELATIVE_ERROR = 2 ** (1 / (2 * BINS_PER_OCTAVE)) - 1

OUTCOME_COUNTS = {"intercept": "intercepts", "miss": "misses", "abort": "aborts",
                  "fratricide": "fratricides"}
SUMMED = ("interceptors_used", "operating_cost_cents", "threat_cost_cents")


@dataclass(frozen=True)
class Condition:
    """What a score is comparable under: same kind of trial, scenario and threat."""

    trial_kind: str
    scenario: str
    threat_kind: str


@dataclass(frozen=True)
class Tally:
    """What is summed over the engagements of one condition; tallies add up."""

    engagements: int = 0
    intercepts: int = 0
    misses: int = 0
    aborts: int = 0
    fratricides: int = 0
    interceptors_used: int = 0
    operating_cost_cents: int = 0
    threat_cost_cents: int = 0
    time_bins: tuple[tuple[int, int], ...] = ()  # (bin, intercepts), ascending, no zeros

    def __add__(self, other: "Tally") -> "Tally":
        counts = {name: getattr(self, name) + getattr(other, name) for name in COUNTED}
        return Tally(**counts, time_bins=_merge_bins(self.time_bins, other.time_bins))


COUNTED = tuple(f.name for f in fields(Tally) if f.name != "time_bins")


def _merge_bins(*histograms: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram:
            merged[index] = merged.get(index, 0) + count
    return tuple(sorted((i, n) for i, n in merged.items() if n))


def total(tallies: Iterable[Tally]) -> Tally:
    result = Tally()
    for item in tallies:
        result = result + item
    return result


def time_bin(seconds: np.ndarray) -> np.ndarray:
    """The histogram bin of each time to intercept (seconds ≥ 0)."""
    return np.searchsorted(TIME_BIN_EDGES_S, seconds, side="right") - 1


def time_quantiles_s(time_bins: tuple[tuple[int, int], ...],
                     quantiles: tuple[float, ...]) -> list[float | None]:
    """Nearest-rank quantiles of a time histogram, each at the geometric middle of its bin."""
    cumulative = list(accumulate(count for _, count in time_bins))
    if not cumulative:
        return [None] * len(quantiles)
    n = cumulative[-1]
    # the tolerance keeps 0.9 × 10 at rank 9
    return [_bin_middle_s(time_bins[bisect_left(cumulative, max(1, math.ceil(q * n - 1e-9)))][0])
            for q in quantiles]


def _bin_middle_s(index: int) -> float:
    if index == 0:
        return FIRST_EDGE_S / 2
    return TIME_BIN_EDGES_S[index] * 2 ** (1 / (2 * BINS_PER_OCTAVE))


def tally_by_threat_kind(engagements: pd.DataFrame) -> dict[str, Tally]:
    """Tally engagement rows per threat kind, vectorised (numpy alone: a single row costs
    microseconds, which a soldier's one-engagement post needs).

    Columns: `threat_kind`, `outcome`, `interceptors_used`, `operating_cost_cents` (null for
    none), `threat_cost_cents`, `time_to_intercept_s` (null for none).
    """
    kinds, group = np.unique(engagements["threat_kind"].astype(str).to_numpy(),
                             return_inverse=True)
    outcome = engagements["outcome"].astype(str).to_numpy()

    def summed(values: np.ndarray) -> list[int]:
        out = np.zeros(len(kinds), np.int64)
        np.add.at(out, group, values)  # integer sums: exact cents, unlike bincount's floats
        return out.tolist()

    sums = {"engagements": summed(np.ones(len(group), np.int64)),
            **{column: summed((outcome == name).astype(np.int64))
               for name, column in OUTCOME_COUNTS.items()},
            "interceptors_used": summed(engagements["interceptors_used"].to_numpy(np.int64)),
            "operating_cost_cents": summed(engagements["operating_cost_cents"].fillna(0)
                                           .to_numpy(np.int64)),
            "threat_cost_cents": summed(engagements["threat_cost_cents"].to_numpy(np.int64))}
    bins = _time_bins(engagements, group, outcome, len(kinds))
    return {str(kind): Tally(**{name: values[i] for name, values in sums.items()},
                             time_bins=bins[i]) for i, kind in enumerate(kinds)}


def _time_bins(engagements: pd.DataFrame, group: np.ndarray, outcome: np.ndarray,
               kinds: int) -> list[tuple[tuple[int, int], ...]]:
    seconds = pd.to_numeric(engagements["time_to_intercept_s"], errors="coerce").to_numpy(float)
    timed = (outcome == "intercept") & ~np.isnan(seconds)
    width = len(TIME_BIN_EDGES_S)
    pairs, counts = np.unique(group[timed] * width + time_bin(seconds[timed]),
                              return_counts=True)
    found: list[list[tuple[int, int]]] = [[] for _ in range(kinds)]
    for pair, count in zip(pairs.tolist(), counts.tolist(), strict=True):
        found[pair // width].append((pair % width, count))
    return [tuple(items) for items in found]


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


@lru_cache(maxsize=2_048)  # pure, and boards score the same tallies again and again
def score(tally: Tally, *, unit_cost_cents: int) -> Score:
    """Score one tally with the version's unit cost: cost per intercept = (interceptors used
    × unit cost + operating costs) ÷ intercepts."""
    n, intercepts = tally.engagements, tally.intercepts
    # Integer cents all the way: the only division is the final one, done in Decimal.
    total_cents = tally.interceptors_used * unit_cost_cents + tally.operating_cost_cents
    threat_cents = tally.threat_cost_cents
    interval = wilson_interval(intercepts, n)
    median, p90 = time_quantiles_s(tally.time_bins, (0.5, 0.9))
    return Score(
        engagements=n,
        intercepts=intercepts,
        pk=_rate(intercepts, n),
        pk_low=interval[0] if interval else None,
        pk_high=interval[1] if interval else None,
        cost_per_intercept_eur=_eur(Decimal(total_cents) / intercepts) if intercepts else None,
        cost_exchange_ratio=(float(Decimal(total_cents) / intercepts / (Decimal(threat_cents) / n))
                             if intercepts and threat_cents else None),
        total_cost_eur=_eur(total_cents),
        mean_threat_cost_eur=_eur(Decimal(threat_cents) / n) if n else None,
        leak_rate=_rate(tally.misses + tally.aborts, n),
        fratricide_rate=_rate(tally.fratricides, n),
        time_to_intercept_median_s=median,
        time_to_intercept_p90_s=p90,
    )


# scenario -> threat kind -> trial kind -> score: every leaf is one condition, never a mix
ScenarioScores = dict[str, dict[str, dict[str, Score]]]


@dataclass(frozen=True)
class VersionScore:
    """A version's evidence: every condition apart (`by_scenario`), and roll-ups across
    scenarios (`overall`, `by_trial_kind`) for counting evidence, not for comparing versions."""

    overall: Score
    by_trial_kind: dict[str, Score] = field(default_factory=dict)
    by_scenario: ScenarioScores = field(default_factory=dict)


def score_version(tallies: Mapping[Condition, Tally], *, unit_cost_cents: int) -> VersionScore:
    """Each condition scored apart, plus the roll-ups over all of them and per trial kind."""
    kinds: dict[str, list[Tally]] = {}
    by_scenario: ScenarioScores = {}
    for condition in sorted(tallies, key=lambda c: (c.scenario, c.threat_kind, c.trial_kind)):
        item = tallies[condition]
        kinds.setdefault(condition.trial_kind, []).append(item)
        by_scenario.setdefault(condition.scenario, {}).setdefault(condition.threat_kind, {})[
            condition.trial_kind] = score(item, unit_cost_cents=unit_cost_cents)
    return VersionScore(
        overall=score(total(tallies.values()), unit_cost_cents=unit_cost_cents),
        by_trial_kind={kind: score(total(items), unit_cost_cents=unit_cost_cents)
                       for kind, items in sorted(kinds.items())},
        by_scenario=by_scenario)
