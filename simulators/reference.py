"""The same model as `simulators.engine`, one engagement at a time in plain Python.

It exists to check the vectorised engine (same draws, same answers, the same arithmetic in the
same order) and as the benchmark's reference; never use it for real work.
"""

import math

import numpy as np
import pandas as pd

from simulators.engine import CHUNK_ENGAGEMENTS, EPS, OUTCOMES, Draws, draw
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


def simulate_reference(scenario: Scenario, defender: Defender, *, runs: int,
                       seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_ENGAGEMENTS // scenario.raid_size)
    rows = []
    for first in range(0, runs, chunk):
        count = min(chunk, runs - first)
        draws = draw(rng, count, scenario, defender)
        for run in range(count):
            rows.extend(_run(scenario, defender, draws, run, first + run))
    frame = pd.DataFrame(rows)
    frame["threat_kind"] = pd.Categorical(frame["threat_kind"],
                                          categories=[scenario.threat.kind])
    frame["outcome"] = pd.Categorical(frame["outcome"], categories=OUTCOMES)
    return frame


def _run(scenario: Scenario, defender: Defender, draws: Draws, run: int,
         run_id: int) -> list[dict[str, object]]:
    threat, dt = scenario.threat, scenario.time_step_s
    magazine = defender.magazine
    rows = []
    for i, approach in enumerate(approaches(scenario)):
        detected = detection_entry_s(defender, scenario, approach) \
            + (int(draws.scans[run, i]) - 1) * defender.scan_interval_s \
            + defender.track_latency_s
        ready = max(detected, first_launch_s(defender, scenario, approach)) / dt
        step = math.ceil(ready) if math.isfinite(ready) else math.inf
        alive, fired, real_shot = True, False, False
        used = sorties = 0
        kill_time = math.nan
        for k in range(defender.max_shots):
            if not (alive and step * dt < approach.arrive_s and magazine > 0):
                continue
            size = min(defender.salvo, magazine)
            fuzed, end_step, end_t = _fly(scenario, defender, approach, step)
            jammed = [bool(draws.jammed[run, i, k, j]) for j in range(size)]
            if fuzed and any(not jammed[j] and draws.kill_u[run, i, k, j] < defender.p_kill
                             for j in range(size)):
                alive, kill_time = False, end_t
            used += sum(jammed) if defender.reusable else size
            sorties += size
            magazine -= size
            real_shot = real_shot or not all(jammed)
            fired = True
            step = end_step + 1
        outcome = "intercept" if not alive else "abort" if fired and not real_shot else "miss"
        rows.append({"run": run_id, "threat_index": i, "threat_kind": threat.kind,
                     "threat_cost_cents": threat.cost_cents, "interceptors_used": used,
                     "outcome": outcome, "time_to_intercept_s": kill_time - detected,
                     "operating_cost_cents": sorties * defender.operating_cost_cents,
                     "detected_at_s": detected})
    return rows


def _fly(scenario: Scenario, defender: Defender, approach: Approach,
         m: int) -> tuple[bool, int, float]:
    dt, vmax, amax = scenario.time_step_s, defender.speed_mps, defender.acceleration_mps2
    wx, wy = wind(scenario)
    lag_x, lag_y = approach.vx * defender.track_latency_s, approach.vy * defender.track_latency_s
    lock2, lethal2 = lock_range_m(defender, scenario) ** 2, defender.lethal_radius_m ** 2
    px, py = launcher(scenario)
    s = 0.0
    locked = False
    dx = dy = 0.0
    for n in range(-1, max_steps(defender, scenario)):
        t = (m + max(n, 0)) * dt
        rx = approach.x0 + approach.vx * (t - approach.start_s) - px
        ry = approach.y0 + approach.vy * (t - approach.start_s) - py
        locked = locked or rx * rx + ry * ry <= lock2
        ax, ay = (rx, ry) if locked else (rx - lag_x, ry - lag_y)
        if n < 0:  # launched pointing at the aim point
            norm = math.sqrt(max(ax * ax + ay * ay, EPS))
            dx, dy = ax / norm, ay / norm
            continue
        s = min(s + amax * dt, vmax)
        r2 = max(ax * ax + ay * ay, EPS)
        if defender.guidance == "pure_pursuit":
            r = math.sqrt(r2)
            cross = (dx * ay - dy * ax) / r
            a = (cross if dx * ax + dy * ay >= 0 else 1.0 if cross >= 0 else -1.0) * s / dt
        else:
            vrx, vry = approach.vx - (s * dx + wx), approach.vy - (s * dy + wy)
            a = NAVIGATION_CONSTANT * (-(ax * vrx + ay * vry) / math.sqrt(r2)) \
                * ((ax * vry - ay * vrx) / r2)
        turn = min(max(a, -amax), amax) * dt / s
        dx, dy = dx - turn * dy, dy + turn * dx
        norm = math.sqrt(dx * dx + dy * dy)
        dx, dy = dx / norm, dy / norm
        vix, viy = s * dx + wx, s * dy + wy
        rvx, rvy = approach.vx - vix, approach.vy - viy
        tau = min(max(-(rx * rvx + ry * rvy) / max(rvx * rvx + rvy * rvy, EPS), 0.0), dt)
        mx, my = rx + rvx * tau, ry + rvy * tau
        hit = mx * mx + my * my <= lethal2 and t + tau <= approach.arrive_s
        px, py = px + vix * dt, py + viy * dt
        if hit or t + dt >= approach.arrive_s or (n + 1) * dt >= defender.endurance_s:
            return hit, m + n, t + tau
    raise AssertionError("unreachable: endurance ends every flight")
