"""A version's sensor and jammer figures by scenario and trial kind, pooled from each trial's
detection scores (one per sensor session) and EW effect. Pure: the hub reads and scores the
trials (hub.flows.sensor_scores).

Pooling, so that figures compare across versions: Pd from summed epochs and detections (with
its 95 % Wilson interval), per range bin the same; position errors pooled over every
associated point detection (median, 90th percentile, and counts in bins of ERROR_BIN_M);
false alarms per hour over the summed evaluated hours; first-detection range and time to first
detection as the median over the sensor sessions that detected anything. Jammers: link loss
and GPS degradation from summed frames and reports on and off, the median over every
activation's time to effect, and the largest range at which an effect held.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

import numpy as np
from pydantic import BaseModel

from sandbox.detection import DetectionScore, RangeBin, coarse
from sandbox.ew_effect import EwEffect, Side
from sandbox.scoring import wilson_interval

ERROR_BIN_M = 5.0


@dataclass(frozen=True)
class TrialFigures:
    """What one trial gives: its condition, its sensor sessions' scores, its jammer effect."""

    trial_kind: str
    scenario: str
    detections: list[DetectionScore] = field(default_factory=list)
    effect: EwEffect | None = None  # None: no jammer activation recorded
    unscored_sensors: int = 0  # sensor sessions that cannot be scored yet (no position)


class ErrorBin(BaseModel):
    error_m_from: float
    error_m_to: float
    detections: int


class DetectionFigures(BaseModel):
    sensor_sessions: int
    epochs: int
    detected: int
    pd: float | None
    pd_low: float | None
    pd_high: float | None
    pd_by_range: list[RangeBin]
    first_detection_range_m_median: float | None
    time_to_first_detection_s_median: float | None
    position_error_p50_m: float | None
    position_error_p90_m: float | None
    position_error_bins: list[ErrorBin]
    false_alarms: int
    false_alarms_per_hour: float | None
    evaluated_s: int


class EwFigures(BaseModel):
    trials: int
    activations: int
    effective_activations: int
    link_loss_rate_on: float | None
    link_loss_rate_off: float | None
    gps_degraded_share_on: float | None
    gps_degraded_share_off: float | None
    median_time_to_effect_s: float | None
    max_effect_range_m: float | None


class SensorFigures(BaseModel):
    """One condition: a scenario under one kind of trial."""

    trials: int
    unscored_sensor_sessions: int
    detection: DetectionFigures | None
    ew_effect: EwFigures | None


class SensorScores(BaseModel):
    version_id: int
    by_scenario: dict[str, dict[str, SensorFigures]]  # scenario -> trial kind -> figures


def _rate(detected: int, epochs: int) -> tuple[float | None, float | None, float | None]:
    interval = wilson_interval(detected, epochs)
    return (None, None, None) if interval is None else (detected / epochs, *interval)


def _median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(median(kept)) if kept else None


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def error_bins(errors_m: np.ndarray) -> list[ErrorBin]:
    """Counts of position errors in bins [from, to) of ERROR_BIN_M, from 0 past the largest."""
    if not errors_m.size:
        return []
    top = (float(np.floor(errors_m.max() / ERROR_BIN_M)) + 1) * ERROR_BIN_M
    counts, edges = np.histogram(errors_m, bins=np.arange(0.0, top + ERROR_BIN_M / 2,
                                                          ERROR_BIN_M))
    return [ErrorBin(error_m_from=float(low), error_m_to=float(high), detections=int(n))
            for low, high, n in zip(edges[:-1], edges[1:], counts, strict=True)]


def _range_bins(scores: list[DetectionScore]) -> list[RangeBin]:
    totals: dict[tuple[float, float], list[int]] = defaultdict(lambda: [0, 0])
    for score in scores:
        for b in score.pd_by_range:
            totals[(b.range_m_from, b.range_m_to)][0] += b.epochs
            totals[(b.range_m_from, b.range_m_to)][1] += b.detected
    out = []
    for (low, high), (epochs, detected) in sorted(totals.items()):
        pd_, pd_low, pd_high = _rate(detected, epochs)
        out.append(RangeBin(range_m_from=low, range_m_to=high, epochs=epochs,
                                   detected=detected, pd=pd_, pd_low=pd_low, pd_high=pd_high))
    return out


def detection_figures(scores: list[DetectionScore]) -> DetectionFigures | None:
    """Several sensor sessions' scores pooled; None when there are none."""
    if not scores:
        return None
    epochs, detected = sum(s.epochs for s in scores), sum(s.detected for s in scores)
    errors = np.array([e for s in scores for e in s.position_errors_m], dtype=float)
    false_alarms, seconds = sum(s.false_alarms for s in scores), sum(s.evaluated_s for s in scores)
    pd_, pd_low, pd_high = _rate(detected, epochs)
    return DetectionFigures(
        sensor_sessions=len(scores), epochs=epochs, detected=detected, pd=pd_, pd_low=pd_low,
        pd_high=pd_high, pd_by_range=_range_bins(scores),
        first_detection_range_m_median=_median(s.first_detection_range_m for s in scores),
        time_to_first_detection_s_median=_median(s.time_to_first_detection_s for s in scores),
        position_error_p50_m=_percentile(errors, 50),
        position_error_p90_m=_percentile(errors, 90), position_error_bins=error_bins(errors),
        false_alarms=false_alarms,
        false_alarms_per_hour=false_alarms / (seconds / 3600) if seconds else None,
        evaluated_s=seconds)


def _loss(sides: list[Side]) -> float | None:
    expected = sum(s.frames_expected for s in sides)
    return sum(s.frames_lost for s in sides) / expected if expected else None


def _degraded(sides: list[Side]) -> float | None:
    """The share of GPS reports below a 3-D fix, over every report of these sides."""
    reports = sum(s.gps_reports for s in sides)
    return sum((s.gps_degraded_share or 0.0) * s.gps_reports for s in sides) / reports \
        if reports else None


def ew_figures(effects: list[EwEffect]) -> EwFigures | None:
    """Several trials' jammer effects pooled; None when there are none."""
    if not effects:
        return None
    ranges = [e.effect_range_m for e in effects if e.effect_range_m is not None]
    return EwFigures(
        trials=len(effects), activations=sum(e.activations for e in effects),
        effective_activations=sum(e.effective_activations for e in effects),
        link_loss_rate_on=_loss([e.on for e in effects]),
        link_loss_rate_off=_loss([e.off for e in effects]),
        gps_degraded_share_on=_degraded([e.on for e in effects]),
        gps_degraded_share_off=_degraded([e.off for e in effects]),
        median_time_to_effect_s=_median(t for e in effects for t in e.times_to_effect_s),
        max_effect_range_m=max(ranges) if ranges else None)


def sensor_scores(version_id: int, trials: list[TrialFigures]) -> SensorScores:
    """The version's figures by scenario, then trial kind; conditions without sensor or
    jammer data are absent."""
    groups: dict[tuple[str, str], list[TrialFigures]] = defaultdict(list)
    for trial in trials:
        if trial.detections or trial.effect is not None or trial.unscored_sensors:
            groups[(trial.scenario, trial.trial_kind)].append(trial)
    by_scenario: dict[str, dict[str, SensorFigures]] = defaultdict(dict)
    for (scenario, kind), group in sorted(groups.items()):
        by_scenario[scenario][kind] = SensorFigures(
            trials=len(group), unscored_sensor_sessions=sum(t.unscored_sensors for t in group),
            detection=detection_figures([s for t in group for s in t.detections]),
            ew_effect=ew_figures([t.effect for t in group if t.effect is not None]))
    return SensorScores(version_id=version_id, by_scenario=dict(by_scenario))


def coarsened(scores: SensorScores) -> SensorScores:
    """As engineers see it, as in their feedback: ranges to 10 m, durations and errors to the
    second and the metre (rates, counts and bins of 500 m or 5 m stay)."""
    out = scores.model_copy(deep=True)
    for kinds in out.by_scenario.values():
        for figures in kinds.values():
            if (d := figures.detection) is not None:
                d.first_detection_range_m_median = coarse(d.first_detection_range_m_median, 10)
                d.time_to_first_detection_s_median = coarse(d.time_to_first_detection_s_median,
                                                            1)
                d.position_error_p50_m = coarse(d.position_error_p50_m, 1)
                d.position_error_p90_m = coarse(d.position_error_p90_m, 1)
            if (e := figures.ew_effect) is not None:
                e.median_time_to_effect_s = coarse(e.median_time_to_effect_s, 1)
                e.max_effect_range_m = coarse(e.max_effect_range_m, 10)
    return out
