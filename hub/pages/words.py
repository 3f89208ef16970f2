"""How pages say numbers and names: counts with thousands separators, statuses and gate
criteria in words. Pure; registered once as Jinja filters in hub/pages/common.py."""

import re
from decimal import Decimal
from typing import Any

from sandbox.feedback import HeldBack
from sandbox.readiness import CriterionResult

MISSING = "–"
TRIAL_KIND = re.compile(r"^(simulation|simulator|field)_(.+)$")
WITHIN = re.compile(r"^pd_low_within_(\d+)_m$")
# gate measures (sandbox/gates.toml) as a reviewer says them; True where the value is a count
MEASURES: dict[str, tuple[str, bool]] = {
    "engagements": ("engagements", True),
    "pk_low": ("Pk (95 % lower bound)", False),
    "pd_low": ("Pd (95 % lower bound)", False),
    "detection_epochs": ("detection epochs (target seconds)", True),
    "false_alarms_per_hour": ("false alarms per hour", False),
    "ew_activations": ("jammer activations", True),
    "effective_share": ("share of activations with an effect", False),
    "time_to_effect_s": ("median time to effect (s)", False),
    "effect_range_m": ("largest range with an effect (m)", True),
    "cost_exchange_ratio": ("cost-exchange ratio", False),
    "open_safety_findings": ("open safety findings", True),
    "reports": ("soldiers' reports", True),
}


def count(value: int | float | Decimal | None) -> str:
    """12500 -> '12,500'; a float count is rounded, never written in exponent form."""
    return MISSING if value is None else f"{round(value):,}"


def count_of(value: int | float | None, one: str, many: str = "") -> str:
    """`3 | count_of("report")` -> '3 reports'; `many` for irregular plurals ('batches')."""
    word = one if value == 1 else (many or one + "s")
    return f"{count(value)} {word}"


def eur(value: int | float | Decimal | None) -> str:
    return MISSING if value is None else f"{round(value):,} EUR"


def status_words(value: Any) -> str:
    """'sim_trialled' -> 'sim trialled' (statuses, trial kinds, any enum of the glossary)."""
    return MISSING if value is None else str(value).replace("_", " ")


def _measure(name: str) -> tuple[str, bool]:
    bare = name.removeprefix("min_").removeprefix("max_")
    kind_match = TRIAL_KIND.match(bare)
    kind, bare = kind_match.groups() if kind_match else ("", bare)
    within = WITHIN.match(bare)
    if within:
        label, counted = f"{MEASURES['pd_low'][0]} within {int(within.group(1)):,} m", False
    else:
        label, counted = MEASURES.get(bare, (status_words(bare), False))
    label = f"{label}, {kind} trials" if kind else label
    return label[0].upper() + label[1:], counted


def measure(name: str) -> str:
    """'min_simulation_pk_low' -> 'Pk (95 % lower bound), simulation trials'."""
    return _measure(name)[0]


def number(value: float | Decimal | None) -> str:
    """A measured value to two decimals at most: 1250.5 -> '1,250.5', 0.456 -> '0.46'."""
    return MISSING if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def _figure(value: float, counted: bool) -> str:
    return count(value) if counted else number(value)


def criterion(result: CriterionResult) -> str:
    """A gate criterion in words: 'Engagements, simulation trials: 12,500 meets ≥ 200'."""
    label, counted = _measure(result.name)
    needed = _figure(result.required, counted)
    if result.actual is None:
        return f"{label}: no evidence yet (needs {needed})"
    sign = "≥" if result.name.startswith("min_") else "≤"
    verdict = "meets" if result.passed else "fails"
    return f"{label}: {_figure(result.actual, counted)} {verdict} {sign} {needed}"


def held_back(held: HeldBack) -> str:
    """What the anonymity threshold holds back, and when it will be released."""
    if not (held.reports or held.engagements):
        return "nothing"
    return (f"{count_of(held.reports, 'report')} and {count_of(held.engagements, 'engagement')} "
            f"from {count_of(held.people, 'soldier')}: released once {held.needed_people} "
            f"different soldiers have new feedback ({held.people} of {held.needed_people} so "
            "far)")


FILTERS = {"count": count, "count_of": count_of, "number": number, "eur": eur,
           "status_words": status_words, "measure": measure, "criterion": criterion,
           "held_back": held_back}
