"""The same model as `simulators.engine`, one engagement at a time in plain Python.

It exists to check the vectorised engine (same draws, same answers) and as the benchmark's
reference; never use it for real work.
"""

import math

import numpy as np
import pandas as pd

from simulators.engine import (
    CHUNK_ENGAGEMENTS,
    OUTCOMES,
    Draws,
    draw,
    effective_p_kill,
    first_launch_s,
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
    threat = scenario.threat
    magazine = defender.magazine
    closing = max(defender.speed_mps - scenario.wind_mps, 1.0) + threat.speed_mps
    lag = 1.25 if defender.guidance == "pure_pursuit" else 1.0
    p_kill = effective_p_kill(defender, scenario)
    rows = []
    for i in range(scenario.raid_size):
        start = i * scenario.spacing_s
        arrive = start + scenario.start_range_m / threat.speed_mps
        enter = start + max(scenario.start_range_m - defender.detection_range_m, 0.0) \
            / threat.speed_mps
        detected = enter + (int(draws.scans[run, i]) - 1) * defender.scan_interval_s \
            + defender.track_latency_s
        now = max(float(detected), first_launch_s(defender, scenario, start))
        alive, fired, real_shot = True, False, False
        used = sorties = 0
        kill_time = math.nan
        for k in range(defender.max_shots):
            if not (alive and now < arrive and magazine > 0):
                continue
            size = min(defender.salvo, magazine)
            flight = (scenario.start_range_m - threat.speed_mps * (now - start)) / closing * lag
            jammed = [bool(draws.jammed[run, i, k, j]) for j in range(size)]
            hits = [not jammed[j] and draws.kill_u[run, i, k, j] < p_kill for j in range(size)]
            if any(hits):
                alive, kill_time = False, now + flight
            used += sum(jammed) if defender.reusable else size
            sorties += size
            magazine -= size
            real_shot = real_shot or not all(jammed)
            fired = True
            now += flight
        outcome = "intercept" if not alive else "abort" if fired and not real_shot else "miss"
        rows.append({"run": run_id, "threat_index": i, "threat_kind": threat.kind,
                     "threat_cost_cents": threat.cost_cents, "interceptors_used": used,
                     "outcome": outcome, "time_to_intercept_s": kill_time - detected,
                     "operating_cost_cents": sorties * defender.operating_cost_cents,
                     "detected_at_s": detected})
    return rows
