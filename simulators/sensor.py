"""A C-UAS sensor in simulation: what it reports of a scenario's threats, scan by scan, and the
targets' own telemetry to score it against. Pure: frames and bytes out.

Per scan, a target at range r is detected with probability
    Pd(r) = pd_max / (1 + (r / range_50_m) ** steepness)   (none beyond max_range_m),
reported with Gaussian noise of sigma = position_sigma_m + sigma_per_km_m × r / 1000 on each
axis and classified right (`uav`) with classification_accuracy; false alarms arrive as a
Poisson process at false_alarms_per_h, anywhere within max_range_m. A version's `parameters`
may set any of these fields. Positions are metres east/north/up of the sensor, which stands at
the scenario's defended point; the threats fly the scenario's geometry at `altitude_m`.
"""

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from simulators.geometry import approaches
from simulators.scenario import Scenario
from simulators.synthetic import METRES_PER_DEG
from simulators.threats import ScenarioError

GAP_S = 60.0  # between repeated raids


@dataclass(frozen=True)
class SensorModel:
    max_range_m: float = 5000.0
    pd_max: float = 0.95
    range_50_m: float = 3000.0
    steepness: float = 4.0
    position_sigma_m: float = 5.0
    sigma_per_km_m: float = 3.0
    false_alarms_per_h: float = 5.0
    scan_interval_s: float = 1.0
    classification_accuracy: float = 0.9
    altitude_m: float = 100.0

    def pd(self, range_m: np.ndarray) -> np.ndarray:
        r = np.asarray(range_m, float)
        curve = self.pd_max / (1 + (r / self.range_50_m) ** self.steepness)
        return np.where(r <= self.max_range_m, curve, 0.0)

    def sigma_m(self, range_m: np.ndarray) -> np.ndarray:
        return self.position_sigma_m + self.sigma_per_km_m * np.asarray(range_m, float) / 1000


PROBABILITIES = {"pd_max", "classification_accuracy"}


def sensor_from_parameters(parameters: dict[str, Any]) -> SensorModel:
    """A registry version's parameters over the model's defaults; unknown keys are left to
    other models (a version may carry more than its sensor)."""
    values = {}
    for field in fields(SensorModel):
        if field.name not in parameters:
            continue
        value = parameters[field.name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise ScenarioError(f"{field.name}: must be a finite number")
        low_ok = value >= 0 if field.name in {"false_alarms_per_h", "sigma_per_km_m",
                                              "position_sigma_m", "altitude_m"} else value > 0
        if not low_ok or (field.name in PROBABILITIES and value > 1):
            raise ScenarioError(f"{field.name}: {value} is out of range")
        values[field.name] = float(value)
    return SensorModel(**values)


def raid_tracks(scenario: Scenario, model: SensorModel, *, runs: int = 1,
                rate_hz: float = 2.0) -> pd.DataFrame:
    """target, t_s (from the first raid's start), east_m, north_m, up_m of every threat, the
    raid flown `runs` times one after another."""
    paths = approaches(scenario)
    length = max(path.arrive_s for path in paths) + GAP_S
    parts = []
    for run in range(runs):
        for number, path in enumerate(paths):
            t = np.arange(path.start_s, path.arrive_s, 1 / rate_hz)
            east, north = path.at(t)  # type: ignore[arg-type]
            parts.append(pd.DataFrame({"target": run * len(paths) + number,
                                       "t_s": run * length + t, "east_m": east,
                                       "north_m": north, "up_m": model.altitude_m}))
    return pd.concat(parts, ignore_index=True)


def _seen(track: pd.DataFrame, model: SensorModel, scans: np.ndarray,
          rng: np.random.Generator) -> pd.DataFrame:
    t = track["t_s"].to_numpy(float)
    scans = scans[(scans >= t[0]) & (scans <= t[-1])]
    truth = np.column_stack([np.interp(scans, t, track[c].to_numpy(float))
                             for c in ("east_m", "north_m", "up_m")])
    ranges = np.linalg.norm(truth, axis=1)
    hit = rng.random(len(scans)) < model.pd(ranges)
    noisy = truth + rng.normal(size=truth.shape) * model.sigma_m(ranges)[:, None]
    right = rng.random(len(scans)) < model.classification_accuracy
    return pd.DataFrame({"t_s": scans, "east_m": noisy[:, 0], "north_m": noisy[:, 1],
                         "up_m": noisy[:, 2], "classification": np.where(right, "uav", "bird"),
                         "object_id": f"target-{int(track['target'].iloc[0])}"})[hit]


def _false_alarms(span: tuple[float, float], model: SensorModel,
                  rng: np.random.Generator) -> pd.DataFrame:
    count = rng.poisson(model.false_alarms_per_h * (span[1] - span[0]) / 3600)
    radius = model.max_range_m * np.sqrt(rng.random(count))  # uniform over the disc
    bearing = rng.random(count) * 2 * math.pi
    return pd.DataFrame({"t_s": rng.uniform(*span, count), "east_m": radius * np.sin(bearing),
                         "north_m": radius * np.cos(bearing),
                         "up_m": rng.uniform(0, 300, count), "classification": "unknown",
                         "object_id": "clutter"})


def simulate_detections(tracks: pd.DataFrame, model: SensorModel, *,
                        seed: int = 1) -> pd.DataFrame:
    """The sensor's reports: t_s, east_m, north_m, up_m, classification, object_id."""
    rng = np.random.default_rng(seed)
    span = (float(tracks["t_s"].min()), float(tracks["t_s"].max()))
    scans = np.arange(span[0] + rng.uniform(0, model.scan_interval_s), span[1],
                      model.scan_interval_s)
    parts = [_seen(group.sort_values("t_s"), model, scans, rng)
             for _, group in tracks.groupby("target", sort=True)]
    parts.append(_false_alarms(span, model, rng))
    return pd.concat(parts, ignore_index=True).sort_values("t_s", kind="stable").reset_index(
        drop=True)


def to_geodetic(east_m: np.ndarray, north_m: np.ndarray,
                site: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """lat°, lon° of local metres, as the synthetic telemetry places its vehicles."""
    lat = site[0] + np.asarray(north_m, float) / METRES_PER_DEG
    lon = site[1] + np.asarray(east_m, float) / (METRES_PER_DEG * math.cos(math.radians(site[0])))
    return lat, lon


def tracks_tlog(tracks: pd.DataFrame, *, site: tuple[float, float], epoch_s: int,
                boot_s: float = 300.0) -> bytes:
    """The targets' telemetry as a tlog: target i is system id 1 + i, each booted `boot_s`
    before `epoch_s` (the tracks' t = 0), sending SYSTEM_TIME once a second."""
    out: list[tuple[float, bytes]] = []
    for target, group in tracks.groupby("target", sort=True):
        mav = mavlink.MAVLink(None, srcSystem=1 + int(target), srcComponent=1)
        lat, lon = to_geodetic(group["east_m"].to_numpy(), group["north_m"].to_numpy(), site)
        last_second = -1
        for t, la, lo, up in zip(group["t_s"], lat, lon, group["up_m"], strict=True):
            boot_ms = int(round((boot_s + t) * 1000))
            messages = [mav.global_position_int_encode(boot_ms, round(la * 1e7), round(lo * 1e7),
                                                       round(up * 1000), round(up * 1000),
                                                       0, 0, 0, 0)]
            if int(t) != last_second:
                last_second = int(t)
                messages.append(mav.system_time_encode(int((epoch_s + t) * 1e6), boot_ms))
            for message in messages:
                out.append((t, message.pack(mav)))
                mav.seq = (mav.seq + 1) % 256
    out.sort(key=lambda item: item[0])
    return b"".join(int((epoch_s + t) * 1e6).to_bytes(8, "big") + frame for t, frame in out)
