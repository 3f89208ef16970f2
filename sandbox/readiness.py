"""Readiness for the Task Force Drones: gates over evidence, TRL, and the sandbox's state
machine. Pure: evidence and configuration in, results out."""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from sandbox.errors import Conflict
from sandbox.models import SandboxStatus as S
from sandbox.scoring import VersionScore
from sandbox.sensors import SensorEvidence

ALLOWED_TRANSITIONS: dict[S, frozenset[S]] = {
    S.submitted: frozenset({S.admitted, S.rejected}),
    S.admitted: frozenset({S.sim_trialled, S.suspended, S.rejected}),
    S.sim_trialled: frozenset({S.field_trial_authorised, S.suspended, S.rejected}),
    S.field_trial_authorised: frozenset({S.ready, S.sim_trialled, S.suspended, S.rejected}),
    S.ready: frozenset({S.suspended}),
    S.suspended: frozenset({S.admitted, S.sim_trialled, S.rejected}),
    S.rejected: frozenset(),
}
GATED = (S.sim_trialled, S.field_trial_authorised, S.ready)  # steps that need evidence
LAPSES_TO = {S.field_trial_authorised: S.sim_trialled, S.ready: S.sim_trialled}


class InvalidTransition(Conflict):
    pass


def check_transition(current: S, target: S) -> None:
    allowed = ALLOWED_TRANSITIONS[current]
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "none (final)"
        raise InvalidTransition(f"to_status: {current} cannot become {target}; "
                                f"allowed: {options}")


def effective_status(status: S, expires_at: datetime | None, now: datetime) -> S:
    """An authorisation past its expiry lapses by itself to the step before it."""
    if expires_at is not None and now >= expires_at and status in LAPSES_TO:
        return LAPSES_TO[status]
    return status


@dataclass(frozen=True)
class Evidence:
    engagements: dict[str, int]  # by trial kind
    pk_low: dict[str, float | None]
    cost_exchange_ratio: float | None
    open_safety_findings: int
    reports: int
    sensors: dict[str, SensorEvidence] = field(default_factory=dict)  # by trial kind

    @classmethod
    def of(cls, score: VersionScore, *, open_safety_findings: int, reports: int,
           sensors: dict[str, SensorEvidence] | None = None) -> "Evidence":
        kinds = score.by_trial_kind
        return cls(engagements={k: s.engagements for k, s in kinds.items()},
                   pk_low={k: s.pk_low for k, s in kinds.items()},
                   cost_exchange_ratio=score.overall.cost_exchange_ratio,
                   open_safety_findings=open_safety_findings, reports=reports,
                   sensors=sensors or {})


@dataclass(frozen=True)
class CriterionResult:
    name: str
    required: float
    actual: float | None
    passed: bool
    reason: str


@dataclass(frozen=True)
class GateResult:
    step: str
    passed: bool
    criteria: list[CriterionResult] = field(default_factory=list)


def load_gates(path: Path | None = None) -> dict[str, dict[str, dict[str, float]]]:
    text = path.read_text() if path else (files("sandbox") / "gates.toml").read_text()
    return tomllib.loads(text)


def gate_for(gates: dict[str, dict[str, dict[str, float]]], kind: str,
             step: str) -> dict[str, float]:
    return gates.get(kind, {}).get(step) or gates["default"].get(step, {})


SENSOR_CRITERION = re.compile(
    r"^(?:min|max)_(simulation|simulator|field)_(detection_epochs|pd_low|pd_low_within_(\d+)_m"
    r"|false_alarms_per_hour|ew_activations|effective_share|time_to_effect_s|effect_range_m)$")


def _sensor_actual(found: SensorEvidence, what: str, within_m: str | None) -> float | None:
    """A sensor or jammer criterion's evidence (see gates.toml)."""
    if within_m is not None:
        return found.pd_low_within(float(within_m))
    detection = found.detection
    return {"detection_epochs": detection.epochs if detection else 0,
            "pd_low": detection.pd_low if detection else None,
            "false_alarms_per_hour": detection.false_alarms_per_hour if detection else None,
            "ew_activations": found.ew_activations,
            "effective_share": (found.effective_activations / found.ew_activations
                                if found.ew_activations else None),
            "time_to_effect_s": found.median_time_to_effect_s,
            "effect_range_m": found.effect_range_m}[what]


def _actual(evidence: Evidence, name: str) -> float | None:
    sensor = SENSOR_CRITERION.match(name)
    if sensor is not None:
        return _sensor_actual(evidence.sensors.get(sensor.group(1), SensorEvidence()),
                              sensor.group(2), sensor.group(3))
    if name.endswith("_engagements"):
        return evidence.engagements.get(name.removeprefix("min_").removesuffix("_engagements"),
                                        0)
    if name.endswith("_pk_low"):
        return evidence.pk_low.get(name.removeprefix("min_").removesuffix("_pk_low"))
    return {"max_cost_exchange_ratio": evidence.cost_exchange_ratio,
            "max_open_safety_findings": evidence.open_safety_findings,
            "min_reports": evidence.reports}[name]


def evaluate_gate(evidence: Evidence, gate: dict[str, float], *, step: str = "") -> GateResult:
    """Pass or fail, with a reason a reviewer reads for every criterion."""
    results = []
    for name, required in gate.items():
        actual = _actual(evidence, name)
        label = name.removeprefix("min_").removeprefix("max_").replace("_", " ")
        if actual is None:
            results.append(CriterionResult(name, required, None, False,
                                           f"{label}: no evidence yet (needs {required:g})"))
            continue
        passed = actual >= required if name.startswith("min_") else actual <= required
        sign = "≥" if name.startswith("min_") else "≤"
        verdict = "meets" if passed else "fails"
        results.append(CriterionResult(name, required, actual, passed,
                                       f"{label}: {actual:.3g} {verdict} {sign} {required:g}"))
    return GateResult(step=step, passed=all(r.passed for r in results), criteria=results)


def technology_readiness_level(evidence: Evidence, status: S) -> int:
    """TRL from what has been shown: 3 on paper, 4–5 simulated, 6–7 in the field, 9 ready."""
    if status == S.ready:
        return 9
    field_n = _shown(evidence, "field")
    if field_n >= 50 and (_rate_low(evidence, "field") or 0) >= 0.5:
        return 7
    if field_n > 0:
        return 6
    if _shown(evidence, "simulator") > 0:
        return 5
    return 4 if _shown(evidence, "simulation") > 0 else 3


def _shown(evidence: Evidence, kind: str) -> int:
    """Engagements, or for sensors and jammers truth epochs and activations, of a trial kind."""
    found = evidence.sensors.get(kind, SensorEvidence())
    epochs = found.detection.epochs if found.detection else 0
    return evidence.engagements.get(kind, 0) + epochs + found.ew_activations


def _rate_low(evidence: Evidence, kind: str) -> float | None:
    found = evidence.sensors.get(kind, SensorEvidence())
    pd_low = found.detection.pd_low if found.detection else None
    return evidence.pk_low.get(kind) or pd_low
