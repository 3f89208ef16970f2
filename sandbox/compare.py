"""Two versions side by side: what changed in their parameters, and how each score moved on
each condition they share. Pure: plain values in, plain values out.

Pk differences carry Newcombe's hybrid score interval (Newcombe 1998, method 10), built from
the two Wilson intervals the scores already hold. Cost per intercept has no interval of its
own; the one given here follows from Pk's interval with the cost per engagement held as
measured (cost per intercept = cost per engagement ÷ Pk), so it shows how far Pk's
uncertainty alone moves it.
"""

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from sandbox.money import CENT
from sandbox.scoring import ScenarioScores, Score


class Change(StrEnum):
    changed = "changed"
    added = "added"
    removed = "removed"
    same = "same"


@dataclass(frozen=True)
class ParameterChange:
    path: str  # nested keys joined by dots, list items as [i]: "pid.roll[2]"
    change: Change
    before: Any = None
    after: Any = None


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON document with its path; an empty dict or list is a leaf."""
    if isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            yield from flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def parameter_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[ParameterChange]:
    """Every leaf path of either version, marked changed, added, removed or same, by path."""
    old, new = dict(flatten(dict(before))), dict(flatten(dict(after)))
    old.pop("", None)
    new.pop("", None)  # an empty document has no leaf to compare
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            changes.append(ParameterChange(path, Change.removed, before=old[path]))
        elif path not in old:
            changes.append(ParameterChange(path, Change.added, after=new[path]))
        else:
            same = _same(old[path], new[path])
            changes.append(ParameterChange(path, Change.same if same else Change.changed,
                                           old[path], new[path]))
    return changes


def _same(a: Any, b: Any) -> bool:
    # 1 and 1.0 are the same setting; True and 1 are not (JSON tells them apart)
    return type(a) is type(b) and a == b or (
        isinstance(a, int | float) and isinstance(b, int | float)
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _estimate(item: Score) -> tuple[float, float, float] | None:
    if item.pk is None or item.pk_low is None or item.pk_high is None:
        return None
    return item.pk, item.pk_low, item.pk_high


def pk_difference_interval(a: Score, b: Score) -> tuple[float, float] | None:
    """95% interval of Pk(b) − Pk(a) (Newcombe's hybrid score method); None without both."""
    first, second = _estimate(a), _estimate(b)
    if first is None or second is None:
        return None
    (pa, la, ua), (pb, lb, ub) = first, second
    difference = pb - pa
    low = difference - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = difference + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    return max(-1.0, low), min(1.0, high)


def cost_interval_eur(item: Score) -> tuple[Decimal, Decimal | None] | None:
    """Cost per intercept at the top and bottom of Pk's interval (cost per engagement fixed);
    the upper end is None (unbounded) when Pk's lower bound is 0."""
    if not item.engagements or item.pk_high is None or item.pk_low is None or not item.pk_high:
        return None
    per_engagement = item.total_cost_eur / item.engagements
    low = _cents(per_engagement / Decimal(repr(item.pk_high)))
    high = _cents(per_engagement / Decimal(repr(item.pk_low))) if item.pk_low else None
    return low, high


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_EVEN)


@dataclass(frozen=True)
class ConditionComparison:
    """One condition (scenario, threat kind, trial kind) of two versions."""

    scenario: str
    threat_kind: str
    trial_kind: str
    a: Score | None
    b: Score | None
    pk_difference: float | None
    pk_difference_interval: tuple[float, float] | None
    cost_difference_eur: Decimal | None
    cost_change: float | None  # relative: −0.25 is a quarter cheaper

    @property
    def pk_verdict(self) -> str:
        """'better' or 'worse' when the interval excludes no change, else 'unclear'."""
        interval = self.pk_difference_interval
        if interval is None:
            return "unclear"
        return "better" if interval[0] > 0 else "worse" if interval[1] < 0 else "unclear"

    @property
    def cost_interval_a(self) -> tuple[Decimal, Decimal | None] | None:
        return cost_interval_eur(self.a) if self.a is not None else None

    @property
    def cost_interval_b(self) -> tuple[Decimal, Decimal | None] | None:
        return cost_interval_eur(self.b) if self.b is not None else None


def compare_scores(a: ScenarioScores, b: ScenarioScores) -> list[ConditionComparison]:
    """Every condition either version was scored on, in (scenario, threat, trial kind) order."""
    keys = sorted({(scenario, threat, kind) for scores in (a, b)
                   for scenario, threats in scores.items()
                   for threat, kinds in threats.items() for kind in kinds})
    return [_condition(key, _leaf(a, key), _leaf(b, key)) for key in keys]


def _leaf(scores: ScenarioScores, key: tuple[str, str, str]) -> Score | None:
    return scores.get(key[0], {}).get(key[1], {}).get(key[2])


def _condition(key: tuple[str, str, str], a: Score | None,
               b: Score | None) -> ConditionComparison:
    if a is None or b is None:
        return ConditionComparison(*key, a=a, b=b, pk_difference=None,
                                   pk_difference_interval=None, cost_difference_eur=None,
                                   cost_change=None)
    pk = b.pk - a.pk if a.pk is not None and b.pk is not None else None
    before, after = a.cost_per_intercept_eur, b.cost_per_intercept_eur
    cost = after - before if before is not None and after is not None else None
    return ConditionComparison(*key, a=a, b=b, pk_difference=pk,
                               pk_difference_interval=pk_difference_interval(a, b),
                               cost_difference_eur=cost,
                               cost_change=float(cost / before) if cost is not None and before
                               else None)
