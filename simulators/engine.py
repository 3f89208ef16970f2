"""The engagement simulator: pure, time-stepped, vectorised over Monte Carlo runs.

Threats fly straight at the defended point (`simulators.geometry`); the launcher's sensor
detects each after a geometric number of scans inside its range plus the track latency. Once a
threat is detected and within reach, a salvo is launched and flown in steps of the scenario's
`time_step_s`: it accelerates to top speed, turns no harder than its acceleration allows and is
steered by proportional navigation or pure pursuit - on the radar track (latency old) until the
threat is inside its seeker's lock range (which jamming shortens), on the threat after. Wind
adds to its ground velocity. Each step's closest approach decides the shot: inside the lethal
radius each interceptor whose link survived jamming kills with p_kill; otherwise it flies on
until its endurance is spent or the threat arrives. Shoot-look-shoot follows, up to max_shots.
The magazine goes to a run's threats in arrival order, so threats, shots and time steps are
loops, and the runs - the many - are the arrays.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulators.geometry import (
    NAVIGATION_CONSTANT,
    Approach,
    approaches,
    detection_entry_s,
    first_launch_s,
    launcher,
    lock_range_m,
    max_steps,
    wind,
)
from simulators.scenario import Scenario
from simulators.threats import Defender

OUTCOMES = ["intercept", "miss", "abort"]  # codes 0, 1, 2
CHUNK_ENGAGEMENTS = 250_000  # bounds memory for any run count
COMPACT_BELOW = 0.7  # drop finished flights from the arrays once fewer than this share fly
EPS = 1e-9  # keeps divisions finite when two positions or velocities coincide
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Draws:
    """All randomness of a chunk, drawn up front so the reference loop can share it."""

    scans: np.ndarray  # (runs, raid) scans until detection, >= 1
    jammed: np.ndarray  # (runs, raid, shots, salvo) link lost
    kill_u: np.ndarray  # (runs, raid, shots, salvo) uniform; kills below p_kill


def draw(rng: np.random.Generator, runs: int, scenario: Scenario, defender: Defender) -> Draws:
    shape = (runs, scenario.raid_size, defender.max_shots, defender.salvo)
    return Draws(scans=rng.geometric(defender.p_detect, (runs, scenario.raid_size))
                 if defender.p_detect > 0 else np.full((runs, scenario.raid_size), 2**31),
                 jammed=rng.random(shape) < scenario.jamming,
                 kill_u=rng.random(shape))


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


def _chunk(scenario: Scenario, defender: Defender, draws: Draws, first_run: int) -> pd.DataFrame:
    runs, raid = draws.scans.shape
    dt = scenario.time_step_s
    magazine = np.full(runs, defender.magazine)
    columns: dict[str, list[np.ndarray]] = {"used": [], "sorties": [], "outcome": [],
                                            "tti": [], "detected": []}
    salvo_index = np.arange(defender.salvo)
    for i, approach in enumerate(approaches(scenario)):
        detected = detection_entry_s(defender, scenario, approach) \
            + (draws.scans[:, i] - 1) * defender.scan_interval_s + defender.track_latency_s
        # launches fall on the time grid: step m flies from m * dt
        step = np.ceil(np.maximum(detected, first_launch_s(defender, scenario, approach)) / dt)
        alive = np.ones(runs, dtype=bool)
        fired = np.zeros(runs, dtype=bool)
        real_shot = np.zeros(runs, dtype=bool)
        used = np.zeros(runs, dtype=np.int64)
        sorties = np.zeros(runs, dtype=np.int64)
        kill_time = np.full(runs, np.nan)
        for k in range(defender.max_shots):
            can = alive & (step * dt < approach.arrive_s) & (magazine > 0)
            size = np.where(can, np.minimum(defender.salvo, magazine), 0)
            launched = salvo_index[None, :] < size[:, None]
            live = launched & ~draws.jammed[:, i, k, :]
            flying = np.flatnonzero(can)
            fuzed, end_step, end_t = _fly(scenario, defender, approach, step[flying])
            killed = np.zeros(runs, dtype=bool)
            killed[flying] = fuzed
            killed &= (live & (draws.kill_u[:, i, k, :] < defender.p_kill)).any(axis=1)
            kill_time[flying] = np.where(killed[flying], end_t, kill_time[flying])
            lost = launched & draws.jammed[:, i, k, :]
            used += size if not defender.reusable else lost.sum(axis=1)
            sorties += size
            magazine -= size
            real_shot |= live.any(axis=1)
            fired |= can
            alive &= ~killed
            step[flying] = end_step + 1  # look, then shoot again from the next step
        outcome = np.where(~alive, 0, np.where(fired & ~real_shot, 2, 1)).astype(np.int8)
        for name, values in (("used", used), ("sorties", sorties), ("outcome", outcome),
                             ("tti", kill_time - detected), ("detected", detected)):
            columns[name].append(values)
    return _frame(scenario, defender, columns, runs, raid, first_run)


def _fly(scenario: Scenario, defender: Defender, approach: Approach,
         first_step: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Salvos launched at the given steps against one threat, flown together step by step.
    Per salvo: whether it came within the lethal radius, the step it ended in, and when."""
    total = len(first_step)
    fuzed = np.zeros(total, dtype=bool)
    end_step = np.zeros(total)
    end_t = np.full(total, np.nan)
    dt, vmax, amax = scenario.time_step_s, defender.speed_mps, defender.acceleration_mps2
    wx, wy = wind(scenario)
    lag_x, lag_y = approach.vx * defender.track_latency_s, approach.vy * defender.track_latency_s
    lock2, lethal2 = lock_range_m(defender, scenario) ** 2, defender.lethal_radius_m ** 2
    pursuit = defender.guidance == "pure_pursuit"

    owner = np.arange(total)
    m = first_step.copy()
    px = np.full(total, launcher(scenario)[0])
    py = np.full(total, launcher(scenario)[1])
    s = np.zeros(total)
    rx, ry, locked = _relative(approach, m * dt, px, py, np.zeros(total, dtype=bool), lock2)
    ax, ay = _aim(rx, ry, locked, lag_x, lag_y)
    norm = np.sqrt(np.maximum(ax * ax + ay * ay, EPS))
    dx, dy = ax / norm, ay / norm
    active = np.ones(total, dtype=bool)
    for n in range(max_steps(defender, scenario)):
        t = (m + n) * dt
        rx, ry, locked = _relative(approach, t, px, py, locked, lock2)
        ax, ay = _aim(rx, ry, locked, lag_x, lag_y)
        s = np.minimum(s + amax * dt, vmax)
        r2 = np.maximum(ax * ax + ay * ay, EPS)
        if pursuit:  # turn to point at the aim point
            r = np.sqrt(r2)
            cross = (dx * ay - dy * ax) / r
            ahead = (dx * ax + dy * ay) >= 0
            a = np.where(ahead, cross, np.where(cross >= 0, 1.0, -1.0)) * s / dt
        else:  # proportional navigation: N x closing speed x line-of-sight rate
            vrx, vry = approach.vx - (s * dx + wx), approach.vy - (s * dy + wy)
            a = NAVIGATION_CONSTANT * (-(ax * vrx + ay * vry) / np.sqrt(r2)) \
                * ((ax * vry - ay * vrx) / r2)
        turn = np.clip(a, -amax, amax) * dt / s
        dx, dy = dx - turn * dy, dy + turn * dx
        norm = np.sqrt(dx * dx + dy * dy)
        dx, dy = dx / norm, dy / norm
        vix, viy = s * dx + wx, s * dy + wy
        rvx, rvy = approach.vx - vix, approach.vy - viy
        tau = np.clip(-(rx * rvx + ry * rvy) / np.maximum(rvx * rvx + rvy * rvy, EPS), 0.0, dt)
        mx, my = rx + rvx * tau, ry + rvy * tau
        hit = (mx * mx + my * my <= lethal2) & (t + tau <= approach.arrive_s)
        px, py = px + vix * dt, py + viy * dt
        spent = (n + 1) * dt >= defender.endurance_s
        done = active & (hit | (t + dt >= approach.arrive_s) | spent)
        where = owner[done]
        fuzed[where], end_step[where], end_t[where] = hit[done], (m + n)[done], (t + tau)[done]
        active &= ~done
        left = np.count_nonzero(active)
        if left == 0:
            break
        if left < COMPACT_BELOW * len(active):
            owner, m, px, py, s, dx, dy, locked = (array[active] for array in (
                owner, m, px, py, s, dx, dy, locked))
            active = np.ones(left, dtype=bool)
    return fuzed, end_step, end_t


def _relative(approach: Approach, t: np.ndarray, px: np.ndarray, py: np.ndarray,
              locked: np.ndarray, lock2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The threat relative to the interceptor, and whether the seeker holds it (it keeps it)."""
    rx = approach.x0 + approach.vx * (t - approach.start_s) - px
    ry = approach.y0 + approach.vy * (t - approach.start_s) - py
    return rx, ry, locked | (rx * rx + ry * ry <= lock2)


def _aim(rx: np.ndarray, ry: np.ndarray, locked: np.ndarray, lag_x: float,
         lag_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Locked: the threat itself; else the radar track, where it was `track_latency_s` ago."""
    return np.where(locked, rx, rx - lag_x), np.where(locked, ry, ry - lag_y)


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
