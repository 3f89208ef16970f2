"""Pure detection scoring: a sensor's detections against the targets' own flight logs.

Positions come in metres east/north/up of the sensor (the hub converts them, heights on one
datum), times in UTC seconds. A detection may place its target as a point or only as a ray,
a sector or a vertical line (see `sandbox.detection_shapes`). The definitions are fixed so
that results compare across trials:

- a truth epoch is a whole second of a target's telemetry while the target is within the
  evaluated range; its range is the sensor-to-target distance at the first sample of that
  second;
- a detection is associated with the nearest target whose truth, interpolated linearly at the
  detection's time (never extrapolated), lies within the gate (3-D) of it: of its point, or of
  the nearest point of its ray, sector or line; the epoch of that target holding the
  detection's second is then detected;
- Pd = detected epochs / epochs, with its 95 % Wilson interval; position error = distance from
  each associated detection to the interpolated truth, for detections that give a point only;
- a false alarm is a detection associated with no target, counted when its second is an
  epoch second of some target; false alarms per hour divide by the distinct epoch seconds;
- first detection range = sensor-to-target distance (truth) at the first associated
  detection; time to first detection runs from that target's first epoch to it;
- not scored, only counted: detections without any location (`unlocated`), and those
  classified `gcs` (`ground_station`: a ground control station locates the operator, whom
  the truth does not follow).
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from sandbox.detection_shapes import Shapes, gaps, sensor_at, shapes
from sandbox.scoring import wilson_interval

BIN_M = 500.0
TRUTH_COLUMNS = ("target", "t_s", "east_m", "north_m", "up_m")
# optional beside these: the columns of sandbox.detection_shapes.SHAPE_DEFAULTS
DETECTION_COLUMNS = ("t_s", "east_m", "north_m", "up_m", "classification")
GROUND_STATION = "gcs"

# How detections are stored, whatever their source (SAPIENT, COURAGEOUS, simulation): UTC
# microseconds, WGS84 degrees, the height and its datum ("msl" or "ellipsoid"; NaN: none).
DETECTION_RECORD: dict[str, str] = {
    "time_us": "int64", "lat_deg": "float64", "lon_deg": "float64", "height_m": "float64",
    "datum": "str", "object_id": "str", "classification": "str", "confidence": "float64"}
# Stored beside them by sources that report more than points (COURAGEOUS): the shape (see
# `sandbox.detection_shapes`; "point" when absent), its bearing, elevation, sector width and
# distance, and where the sensor stood when it reported (NaN: the session's position; heights
# above mean sea level).
DETECTION_GEOMETRY: dict[str, str] = {
    "shape": "str", "bearing_deg": "float64", "elevation_deg": "float64",
    "sector_deg": "float64", "distance_m": "float64", "sensor_lat_deg": "float64",
    "sensor_lon_deg": "float64", "sensor_height_m": "float64"}
STORED_DETECTION = {**DETECTION_RECORD, **DETECTION_GEOMETRY}


def stored_layout(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every stored column, in order: absent geometry means points reported from
    the session's position."""
    absent = {name: "point" if name == "shape" else np.nan
              for name in DETECTION_GEOMETRY if name not in table}
    return table.assign(**absent)[list(STORED_DETECTION)].astype(STORED_DETECTION)


@dataclass(frozen=True)
class RangeBin:
    range_m_from: float
    range_m_to: float
    epochs: int
    detected: int
    pd: float | None
    pd_low: float | None
    pd_high: float | None


@dataclass(frozen=True)
class DetectionScore:
    epochs: int
    detected: int
    pd: float | None
    pd_low: float | None
    pd_high: float | None
    detections: int
    associated: int
    unlocated: int
    ground_station: int
    first_detection_range_m: float | None
    time_to_first_detection_s: float | None
    position_error_p50_m: float | None
    position_error_p90_m: float | None
    false_alarms: int
    false_alarms_per_hour: float | None
    evaluated_s: int
    classification_accuracy: float | None
    pd_by_range: list[RangeBin] = field(default_factory=list)
    position_errors_m: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class _Epochs:
    target: np.ndarray
    second: np.ndarray
    range_m: np.ndarray


@dataclass(frozen=True)
class _Association:
    target: np.ndarray  # index into the target list, -1 for none
    error_m: np.ndarray  # NaN where not associated
    truth_range_m: np.ndarray


Sensor = Callable[[np.ndarray], np.ndarray]  # time (s) -> where the sensor stood, (n, 3)


def _epochs(tracks: list[pd.DataFrame], evaluated_range_m: float, sensor: Sensor) -> _Epochs:
    targets, seconds, ranges = [], [], []
    for index, track in enumerate(tracks):
        t_s = track["t_s"].to_numpy(float)
        unique, first = np.unique(np.floor(t_s), return_index=True)  # tracks sorted by time
        xyz = track[["east_m", "north_m", "up_m"]].to_numpy(float)[first]
        distance = np.linalg.norm(xyz - sensor(t_s[first]), axis=1)
        keep = distance <= evaluated_range_m
        targets.append(np.full(int(keep.sum()), index))
        seconds.append(unique[keep])
        ranges.append(distance[keep])
    if not tracks:
        return _Epochs(np.zeros(0, int), np.zeros(0), np.zeros(0))
    return _Epochs(np.concatenate(targets), np.concatenate(seconds), np.concatenate(ranges))


def _interpolated(track: pd.DataFrame, t_s: np.ndarray) -> np.ndarray:
    """Truth at each time, NaN outside the track's own time span."""
    t = track["t_s"].to_numpy(float)
    out = np.column_stack([np.interp(t_s, t, track[c].to_numpy(float))
                           for c in ("east_m", "north_m", "up_m")])
    out[(t_s < t[0]) | (t_s > t[-1])] = np.nan
    return out


def _associate(tracks: list[pd.DataFrame], t_s: np.ndarray, reports: Shapes, gate_m: float,
               sensor: Sensor) -> _Association:
    errors = np.full((len(tracks), len(t_s)), np.inf)
    ranges = np.full((len(tracks), len(t_s)), np.nan)
    for index, track in enumerate(tracks):
        truth = _interpolated(track, t_s)
        errors[index] = gaps(truth, reports)
        ranges[index] = np.linalg.norm(truth - sensor(t_s), axis=1)
    if not tracks:
        nothing = np.full(len(t_s), np.nan)
        return _Association(np.full(len(t_s), -1), nothing, nothing)
    nearest = np.argmin(errors, axis=0)
    best = errors[nearest, np.arange(len(t_s))]
    hit = best <= gate_m
    return _Association(np.where(hit, nearest, -1), np.where(hit, best, np.nan),
                        ranges[nearest, np.arange(len(t_s))])


def _rate(detected: int, epochs: int) -> tuple[float | None, float | None, float | None]:
    interval = wilson_interval(detected, epochs)
    if interval is None:
        return None, None, None
    return detected / epochs, *interval


def _bins(epochs: _Epochs, hit: np.ndarray, evaluated_range_m: float) -> list[RangeBin]:
    edges = np.append(np.arange(0.0, evaluated_range_m, BIN_M), evaluated_range_m)
    which = np.clip(np.searchsorted(edges, epochs.range_m, side="right") - 1, 0,
                    len(edges) - 2)
    out = []
    for number, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        inside = which == number
        count, detected = int(inside.sum()), int(hit[inside].sum())
        out.append(RangeBin(float(low), float(high), count, detected, *_rate(detected, count)))
    return out


def _labels(detections: pd.DataFrame) -> np.ndarray:
    return detections["classification"].fillna("").astype(str).str.strip().str.lower() \
        .to_numpy(str)


def _classification(labels: np.ndarray, associated: np.ndarray,
                    target_classes: list[str]) -> float | None:
    labelled = associated & (labels != "")
    if not labelled.any():
        return None
    wanted = [name.lower() for name in target_classes]
    return float(np.isin(labels[labelled], wanted).mean())


def _first(epochs: _Epochs, link: _Association,
           t_s: np.ndarray) -> tuple[float | None, float | None]:
    associated = np.flatnonzero(link.target >= 0)
    if not associated.size:
        return None, None
    first = associated[np.argmin(t_s[associated])]
    own = epochs.second[epochs.target == link.target[first]]
    delay = float(t_s[first] - own.min()) if own.size else None
    return float(link.truth_range_m[first]), delay


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def score_detections(truth: pd.DataFrame, detections: pd.DataFrame, *,
                     evaluated_range_m: float = 5000.0, gate_m: float = 50.0,
                     target_classes: list[str] | None = None) -> DetectionScore:
    """The detection score of one sensor; frames with TRUTH_COLUMNS and DETECTION_COLUMNS."""
    tracks = [group.sort_values("t_s") for _, group in truth.groupby("target", sort=True)
              if len(group)]
    reports, labels = shapes(detections), _labels(detections)
    every_t_s = detections["t_s"].to_numpy(float)
    sensor = partial(sensor_at, report_t_s=every_t_s, origin=reports.origin)
    station = labels == GROUND_STATION
    scored = (reports.kind != "none") & ~station
    reports, t_s = reports.take(scored), every_t_s[scored]
    epochs = _epochs(tracks, evaluated_range_m, sensor)
    link = _associate(tracks, t_s, reports, gate_m, sensor)
    linked = link.target >= 0
    hit = np.isin(_key(epochs.target, epochs.second), _key(link.target[linked],
                                                           np.floor(t_s[linked])))
    epoch_seconds = np.unique(epochs.second)
    false_alarms = int((~linked & np.isin(np.floor(t_s), epoch_seconds)).sum())
    errors = link.error_m[linked & (reports.kind == "point")]
    first_range, first_delay = _first(epochs, link, t_s)
    hours = epoch_seconds.size / 3600
    return DetectionScore(
        epochs=int(hit.size), detected=int(hit.sum()), **_pd(int(hit.sum()), int(hit.size)),
        detections=len(every_t_s), associated=int(linked.sum()),
        unlocated=int((~scored & ~station).sum()), ground_station=int(station.sum()),
        first_detection_range_m=first_range, time_to_first_detection_s=first_delay,
        position_error_p50_m=_percentile(errors, 50),
        position_error_p90_m=_percentile(errors, 90),
        false_alarms=false_alarms,
        false_alarms_per_hour=false_alarms / hours if hours else None,
        evaluated_s=int(epoch_seconds.size),
        classification_accuracy=_classification(
            labels[scored], linked, target_classes or ["uav", "drone", "uas"]),
        pd_by_range=_bins(epochs, hit, evaluated_range_m),
        position_errors_m=[float(e) for e in np.sort(errors)])


def _key(target: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One integer per (target, whole second): targets are few, seconds below 2**40."""
    return second.astype(np.int64) * 4096 + target.astype(np.int64)


def _pd(detected: int, epochs: int) -> dict[str, float | None]:
    pd_, low, high = _rate(detected, epochs)
    return {"pd": pd_, "pd_low": low, "pd_high": high}


@dataclass(frozen=True)
class DetectionTotals:
    """Pooled over trials: Pd from summed epochs, false alarms from summed hours."""

    epochs: int
    detected: int
    pd: float | None
    pd_low: float | None
    pd_high: float | None
    false_alarms: int
    false_alarms_per_hour: float | None


def pool(epochs: int, detected: int, false_alarms: int, evaluated_s: float) -> DetectionTotals:
    hours = evaluated_s / 3600
    return DetectionTotals(epochs=epochs, detected=detected, **_pd(detected, epochs),
                           false_alarms=false_alarms,
                           false_alarms_per_hour=false_alarms / hours if hours else None)


def feedback_figures(score: DetectionScore) -> dict[str, object]:
    """The figures an engineer may see: no position, no clock time; ranges to 10 m and
    durations to the second, as every other part of the anonymised feedback."""
    figures = asdict(score)
    figures["first_detection_range_m"] = coarse(score.first_detection_range_m, 10)
    figures["time_to_first_detection_s"] = coarse(score.time_to_first_detection_s, 1)
    figures["position_errors_m"] = [coarse(error, 1) for error in score.position_errors_m]
    return figures


def coarse(value: float | None, step: float) -> float | None:
    """Rounded to a multiple of `step`: what leaves the hub for engineers."""
    return None if value is None else float(round(value / step) * step)
