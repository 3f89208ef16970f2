"""Evidence coverage of a version: which scenarios and threat kinds it was tried on, in which
kinds of trial, and what each readiness gate still needs. Pure: scores, gate results and the
libraries (passed in as plain names) in, plain values out."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sandbox.readiness import CriterionResult, GateResult
from sandbox.scoring import ScenarioScores, Score, wilson_interval

TRIAL_KINDS = ("simulation", "simulator", "field")
SEARCH_LIMIT = 10_000_000  # engagements: beyond this, "more evidence" is no plan


@dataclass(frozen=True)
class CoverageRow:
    """One scenario against one threat kind: engagements by kind of trial."""

    scenario: str
    threat_kind: str
    in_library: bool  # a scenario of the simulator's library (else one soldiers named)
    engagements: dict[str, int]

    @property
    def covered(self) -> bool:
        return any(self.engagements.values())


def coverage_rows(scores: ScenarioScores,
                  library: Iterable[tuple[str, str]]) -> list[CoverageRow]:
    """Every scenario and threat kind of the library or of the evidence, by name."""
    known = set(library)
    keys = known | {(scenario, threat) for scenario, threats in scores.items()
                    for threat in threats}
    return [CoverageRow(scenario, threat, (scenario, threat) in known, {
        kind: item.engagements if (item := scores.get(scenario, {}).get(threat, {}).get(kind))
        else 0 for kind in TRIAL_KINDS}) for scenario, threat in sorted(keys)]


def threat_kinds_missing(scores: ScenarioScores, known: Iterable[str]) -> list[str]:
    """Threat kinds of the library the version has no engagement against."""
    seen = {threat for threats in scores.values() for threat in threats}
    return sorted(set(known) - seen)


def engagements_needed(intercepts: int, engagements: int, required_low: float) -> int | None:
    """How many more engagements at the current Pk would lift the lower end of Pk's 95% Wilson
    interval to `required_low`: 0 if it is there already; None if no number would (the current
    Pk is not above the requirement, or it would take more than SEARCH_LIMIT)."""
    if _low(intercepts, engagements) >= required_low:
        return 0
    if not engagements or intercepts / engagements <= required_low:
        return None
    pk = intercepts / engagements
    high = 1
    while _low_at(pk, engagements + high) < required_low:
        high *= 2
        if high > SEARCH_LIMIT:
            return None
    low = high // 2  # the bound grows with n at a fixed Pk: bisect between the doublings
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _low_at(pk, engagements + middle) < required_low \
            else (low, middle)
    return high


def _low(intercepts: int, engagements: int) -> float:
    interval = wilson_interval(intercepts, engagements)
    return interval[0] if interval else 0.0


def _low_at(pk: float, engagements: int) -> float:
    return _low(round(pk * engagements), engagements)


@dataclass(frozen=True)
class Need:
    """What one gate criterion still lacks; the page words it."""

    criterion: CriterionResult
    trial_kind: str | None  # the kind of trial it counts, if any
    shape: str  # "count" (more of something), "at_least", "at_most"
    short_by: float | None  # how far from the requirement; None without evidence
    more_engagements: int | None = None  # for a Pk bound: at the current Pk


def gate_needs(gate: GateResult, by_trial_kind: Mapping[str, Score]) -> list[Need]:
    """The criteria of a gate that are not met, each with how far it is from the line."""
    return [_need(criterion, by_trial_kind) for criterion in gate.criteria
            if not criterion.passed]


def _need(criterion: CriterionResult, by_trial_kind: Mapping[str, Score]) -> Need:
    name = criterion.name
    kind = next((k for k in TRIAL_KINDS if f"_{k}_" in f"{name}_"), None)
    actual = criterion.actual
    if name.startswith("max_"):
        short = None if actual is None else actual - criterion.required
        return Need(criterion, kind, "at_most", short)
    short = criterion.required - (actual or 0.0) if actual is not None else None
    if name.endswith(("_engagements", "_reports", "_activations", "_epochs")):
        return Need(criterion, kind, "count", criterion.required - (actual or 0.0))
    more = None
    if name.endswith("_pk_low") and kind in by_trial_kind:
        score = by_trial_kind[kind]
        more = engagements_needed(score.intercepts, score.engagements, criterion.required)
    return Need(criterion, kind, "at_least", short, more)
