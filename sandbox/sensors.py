"""Evidence of sensors and jammers for readiness and scores: the detection and effect summaries
kept as trials are scored, pooled by condition (trial kind, and scenario when asked)."""

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median

from sqlmodel import Session, col, select

from sandbox.detection import DetectionTotals, pool
from sandbox.models import DetectionSummary, EwEffectSummary, Trial
from sandbox.scoring import wilson_interval


@dataclass(frozen=True)
class SensorEvidence:
    """A version's sensor and jammer figures under one condition."""

    detection: DetectionTotals | None = None
    bins: list[list[float]] = field(default_factory=list)  # pooled [from, to, epochs, detected]
    ew_activations: int = 0
    effective_activations: int = 0
    median_time_to_effect_s: float | None = None
    effect_range_m: float | None = None

    def pd_low_within(self, range_m: float) -> float | None:
        """Lower Wilson bound of Pd over the epochs no farther than `range_m`."""
        inside = [b for b in self.bins if b[1] <= range_m]
        interval = wilson_interval(int(sum(b[3] for b in inside)), int(sum(b[2] for b in inside)))
        return None if interval is None else interval[0]


def _pooled_bins(rows: list[DetectionSummary]) -> list[list[float]]:
    totals: dict[tuple[float, float], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        for low, high, epochs, detected in row.bins:
            totals[(low, high)][0] += epochs
            totals[(low, high)][1] += detected
    return [[low, high, *counts] for (low, high), counts in sorted(totals.items())]


def _detections(rows: list[DetectionSummary]) -> DetectionTotals | None:
    if not rows:
        return None
    return pool(epochs=sum(r.epochs for r in rows), detected=sum(r.detected for r in rows),
                false_alarms=sum(r.false_alarms for r in rows),
                evaluated_s=sum(r.evaluated_s for r in rows))


def _effects(rows: list[EwEffectSummary]) -> dict[str, object]:
    times = [r.median_time_to_effect_s for r in rows if r.median_time_to_effect_s is not None]
    ranges = [r.effect_range_m for r in rows if r.effect_range_m is not None]
    return {"ew_activations": sum(r.activations for r in rows),
            "effective_activations": sum(r.effective for r in rows),
            "median_time_to_effect_s": median(times) if times else None,
            "effect_range_m": max(ranges) if ranges else None}


def sensor_evidence(*, session: Session, version_id: int,
                    by_scenario: bool = False) -> dict[str, SensorEvidence]:
    """Keyed by trial kind (or `kind/scenario`); conditions without sensor data are absent."""
    def key(trial: Trial) -> str:
        return f"{trial.kind}/{trial.scenario}" if by_scenario else str(trial.kind)

    detections: dict[str, list[DetectionSummary]] = defaultdict(list)
    effects: dict[str, list[EwEffectSummary]] = defaultdict(list)
    for summary, trial in session.exec(select(DetectionSummary, Trial).join(
            Trial, col(Trial.id) == col(DetectionSummary.trial_id))
            .where(Trial.version_id == version_id)).all():
        detections[key(trial)].append(summary)
    for effect, trial in session.exec(select(EwEffectSummary, Trial).join(
            Trial, col(Trial.id) == col(EwEffectSummary.trial_id))
            .where(Trial.version_id == version_id)).all():
        effects[key(trial)].append(effect)
    return {name: SensorEvidence(detection=_detections(detections[name]),
                                 bins=_pooled_bins(detections[name]),
                                 **_effects(effects[name]))  # type: ignore[arg-type]
            for name in sorted(set(detections) | set(effects))}
