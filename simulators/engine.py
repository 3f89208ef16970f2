"""The engagement simulator: pure, vectorised over Monte Carlo runs.

A 1-D radial model (a threat flies straight at the defended point; the launcher sits on it):
a threat enters detection range, is detected after a geometric number of scans plus track
latency, and is engaged shoot-look-shoot with salvos while it is alive, short of the point and
the run's magazine lasts. Proportional navigation flies a head-on collision course
(time = range / closing speed); pure pursuit lags a crossing target, modelled as 25% longer
flight. Each interceptor may lose its link to jamming (it is spent, the shot is void) or else
kills with p_kill (less when the threat outruns it). The magazine is shared by a run's
threats in arrival order, so threats are a short loop; runs, the many, are arrays.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulators.scenario import Scenario
from simulators.threats import Defender

PURSUIT_LAG = 1.25
OUTCOMES = ["intercept", "miss", "abort"]  # codes 0, 1, 2
CHUNK_ENGAGEMENTS = 250_000  # bounds memory for any run count
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Draws:
    """All randomness of a chunk, drawn up front so the reference loop can share it."""

    scans: np.ndarray  # (runs, raid) scans until detection, >= 1
    jammed: np.ndarray  # (runs, raid, shots, salvo) link lost
    kill_u: np.ndarray  # (runs, raid, shots, salvo) uniform; kills below the effective p_kill


def draw(rng: np.random.Generator, runs: int, scenario: Scenario, defender: Defender) -> Draws:
    shape = (runs, scenario.raid_size, defender.max_shots, defender.salvo)
    return Draws(scans=rng.geometric(defender.p_detect, (runs, scenario.raid_size))
                 if defender.p_detect > 0 else np.full((runs, scenario.raid_size), 2**31),
                 jammed=rng.random(shape) < scenario.jamming,
                 kill_u=rng.random(shape))


def effective_p_kill(defender: Defender, scenario: Scenario) -> float:
    """p_kill, cut by the speed ratio when the threat outruns the interceptor (geometry fails)."""
    speed = max(defender.speed_mps - scenario.wind_mps, 1.0)
    return defender.p_kill * min(1.0, speed / scenario.threat.speed_mps)


def simulate(scenario: Scenario, defender: Defender, *, runs: int, seed: int,
             progress: Progress | None = None) -> pd.DataFrame:
    """One row per threat per run: outcome, interceptors used, time to intercept, costs."""
    if runs < 1:
        raise ValueError("runs: must be at least 1")
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_ENGAGEMENTS // scenario.raid_size)
    frames = []
    for first in range(0, runs, chunk):
        count = min(chunk, runs - first)
        frames.append(_chunk(scenario, defender, draw(rng, count, scenario, defender), first))
        if progress is not None:
            progress(first + count, runs)
    return pd.concat(frames, ignore_index=True)


def _flight_s(defender: Defender, scenario: Scenario, range_m: np.ndarray) -> np.ndarray:
    return range_m / _reach_speed(defender, scenario)


def _reach_speed(defender: Defender, scenario: Scenario) -> float:
    """Range closed per second of interceptor flight, for the guidance law."""
    closing = max(defender.speed_mps - scenario.wind_mps, 1.0) + scenario.threat.speed_mps
    return closing / (PURSUIT_LAG if defender.guidance == "pure_pursuit" else 1.0)


def first_launch_s(defender: Defender, scenario: Scenario, start_s: float) -> float:
    """When a threat that set out at `start_s` first comes within the interceptor's reach."""
    reach_m = defender.endurance_s * _reach_speed(defender, scenario)
    return start_s + max(scenario.start_range_m - reach_m, 0.0) / scenario.threat.speed_mps


def _chunk(scenario: Scenario, defender: Defender, draws: Draws, first_run: int) -> pd.DataFrame:
    runs, raid = draws.scans.shape
    threat = scenario.threat
    magazine = np.full(runs, defender.magazine)
    columns: dict[str, list[np.ndarray]] = {"used": [], "sorties": [], "outcome": [],
                                            "tti": [], "detected": []}
    salvo_index = np.arange(defender.salvo)
    kills = draws.kill_u < effective_p_kill(defender, scenario)
    for i in range(raid):
        start = i * scenario.spacing_s
        arrive = start + scenario.start_range_m / threat.speed_mps
        enter = start + max(scenario.start_range_m - defender.detection_range_m, 0.0) \
            / threat.speed_mps
        detected = enter + (draws.scans[:, i] - 1) * defender.scan_interval_s \
            + defender.track_latency_s
        now = np.maximum(detected, first_launch_s(defender, scenario, start))
        alive = np.ones(runs, dtype=bool)
        fired = np.zeros(runs, dtype=bool)
        real_shot = np.zeros(runs, dtype=bool)
        used = np.zeros(runs, dtype=np.int64)
        sorties = np.zeros(runs, dtype=np.int64)
        kill_time = np.full(runs, np.nan)
        for k in range(defender.max_shots):
            can = alive & (now < arrive) & (magazine > 0)
            size = np.where(can, np.minimum(defender.salvo, magazine), 0)
            launched = salvo_index[None, :] < size[:, None]
            flight = _flight_s(defender, scenario, scenario.start_range_m
                               - threat.speed_mps * (now - start))
            live = launched & ~draws.jammed[:, i, k, :]
            killed = can & (live & kills[:, i, k, :]).any(axis=1)
            kill_time = np.where(killed, now + flight, kill_time)
            lost = launched & draws.jammed[:, i, k, :]
            used += size if not defender.reusable else lost.sum(axis=1)
            sorties += size
            magazine -= size
            real_shot |= live.any(axis=1)
            fired |= can
            alive &= ~killed
            now = np.where(can, now + flight, now)
        outcome = np.where(~alive, 0, np.where(fired & ~real_shot, 2, 1)).astype(np.int8)
        for name, values in (("used", used), ("sorties", sorties), ("outcome", outcome),
                             ("tti", kill_time - detected), ("detected", detected)):
            columns[name].append(values)
    return _frame(scenario, defender, columns, runs, raid, first_run)


def _frame(scenario: Scenario, defender: Defender, columns: dict[str, list[np.ndarray]],
           runs: int, raid: int, first_run: int) -> pd.DataFrame:
    stacked = {name: np.stack(values, axis=1).ravel() for name, values in columns.items()}
    return pd.DataFrame({
        "run": np.repeat(np.arange(first_run, first_run + runs), raid),
        "threat_index": np.tile(np.arange(raid), runs),
        "threat_kind": pd.Categorical.from_codes(np.zeros(runs * raid, dtype=np.int8),
                                                 categories=[scenario.threat.kind]),
        "threat_cost_cents": np.int64(scenario.threat.cost_cents),
        "interceptors_used": stacked["used"].astype(np.int64),
        # categorical: a string per engagement would cost more than simulating it
        "outcome": pd.Categorical.from_codes(stacked["outcome"], categories=OUTCOMES),
        "time_to_intercept_s": stacked["tti"],
        "operating_cost_cents": stacked["sorties"].astype(np.int64)
        * defender.operating_cost_cents,
        "detected_at_s": stacked["detected"],
    })
