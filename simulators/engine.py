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

A flight depends only on its threat and its launch step, so each shot round flies, as arrays
stepped in time, every distinct (threat, launch step) that some run asks for; the runs then
take their flights by index and settle magazines (threats in arrival order), link losses and
kills as arrays over runs. Randomness is drawn up front per chunk of runs, which bounds memory.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields

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
FLIGHT_BLOCK = 8_192  # flights stepped together: their arrays stay in cache
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
             progress: Progress | None = None, share_flights: bool = True) -> pd.DataFrame:
    """One row per threat per run: outcome, interceptors used, time to intercept, costs.

    A flight depends only on its threat and its launch step, so by default each distinct one
    is flown once and shared by every run that launched it then; `share_flights=False` flies
    each engagement's own (same answers; the benchmark uses it to measure vectorisation alone).
    """
    if runs < 1:
        raise ValueError("runs: must be at least 1")
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_ENGAGEMENTS // scenario.raid_size)
    frames = []
    for first in range(0, runs, chunk):
        count = min(chunk, runs - first)
        draws = draw(rng, count, scenario, defender)
        frames.append(_chunk(scenario, defender, draws, first, share_flights))
        if progress is not None:
            progress(first + count, runs)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Paths:
    """The raid's approaches as arrays over threats (see `simulators.geometry.Approach`)."""

    x0: np.ndarray
    y0: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    start_s: np.ndarray
    arrive_s: np.ndarray

    @classmethod
    def of(cls, approaches: list[Approach]) -> "Paths":
        return cls(*(np.array([getattr(a, f.name) for a in approaches])
                     for f in fields(cls)))

    def take(self, index: np.ndarray) -> "Paths":
        return Paths(*(getattr(self, f.name)[index] for f in fields(self)))


def _chunk(scenario: Scenario, defender: Defender, draws: Draws, first_run: int,
           share: bool) -> pd.DataFrame:
    runs, raid = draws.scans.shape
    dt = scenario.time_step_s
    raid_paths = approaches(scenario)
    paths = Paths.of(raid_paths)
    detected = np.array([detection_entry_s(defender, scenario, a) for a in raid_paths]) \
        + (draws.scans - 1) * defender.scan_interval_s + defender.track_latency_s
    ready = np.array([first_launch_s(defender, scenario, a) for a in raid_paths])
    # launches fall on the time grid: step m flies from m * dt
    step = np.ceil(np.maximum(detected, ready) / dt)
    shots = []  # per shot: (launch step, fuzed, end step, end time), each (runs, raid)
    for k in range(defender.max_shots):  # a shot's launch follows from the last one's end
        fuzed, end_step, end_t = _fly_requested(scenario, defender, paths, step, share)
        shots.append((step, fuzed, end_step, end_t))
        # look, then shoot again from the next step - unless the salvo's first interceptor,
        # launched whenever the salvo is, surely killed
        killed = fuzed & ~draws.jammed[:, :, k, 0] & (draws.kill_u[:, :, k, 0] < defender.p_kill)
        step = np.where(killed, np.nan, end_step + 1)
    return _resolve(scenario, defender, draws, paths, detected, shots, first_run)


def _fly_requested(scenario: Scenario, defender: Defender, paths: Paths, step: np.ndarray,
                   share: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every shot that could still be taken, as if magazines were bottomless."""
    runs, raid = step.shape
    threat = np.broadcast_to(np.arange(raid), step.shape)
    wanted = step * scenario.time_step_s < paths.arrive_s[None, :]
    fuzed = np.zeros(step.shape, dtype=bool)
    end_step = np.full(step.shape, np.nan)
    end_t = np.full(step.shape, np.nan)
    # one integer per (threat, launch step): a 1-D unique is far cheaper than unique rows
    key = step[wanted].astype(np.int64) * raid + threat[wanted]
    which: np.ndarray | slice = slice(None)
    if share:
        key, which = np.unique(key, return_inverse=True)
    flown = _fly_blocks(scenario, defender, paths.take(key % raid), (key // raid).astype(float))
    for out, values in zip((fuzed, end_step, end_t), flown, strict=True):
        out[wanted] = values[which]
    return fuzed, end_step, end_t


def _resolve(scenario: Scenario, defender: Defender, draws: Draws, paths: Paths,
             detected: np.ndarray, shots: list[tuple[np.ndarray, ...]],
             first_run: int) -> pd.DataFrame:
    """Magazines, link losses and kills: threats in arrival order, shots in turn."""
    runs, raid = detected.shape
    magazine = np.full(runs, defender.magazine)
    columns: dict[str, list[np.ndarray]] = {"used": [], "sorties": [], "outcome": [],
                                            "tti": [], "detected": []}
    salvo_index = np.arange(defender.salvo)
    for i in range(raid):
        alive = np.ones(runs, dtype=bool)
        fired = np.zeros(runs, dtype=bool)
        real_shot = np.zeros(runs, dtype=bool)
        used = np.zeros(runs, dtype=np.int64)
        sorties = np.zeros(runs, dtype=np.int64)
        kill_time = np.full(runs, np.nan)
        for k, (step, fuzed, _, end_t) in enumerate(shots):
            can = alive & (step[:, i] * scenario.time_step_s < paths.arrive_s[i]) \
                & (magazine > 0)
            size = np.where(can, np.minimum(defender.salvo, magazine), 0)
            launched = salvo_index[None, :] < size[:, None]
            live = launched & ~draws.jammed[:, i, k, :]
            killed = can & fuzed[:, i] \
                & (live & (draws.kill_u[:, i, k, :] < defender.p_kill)).any(axis=1)
            kill_time = np.where(killed, end_t[:, i], kill_time)
            lost = launched & draws.jammed[:, i, k, :]
            used += size if not defender.reusable else lost.sum(axis=1)
            sorties += size
            magazine -= size
            real_shot |= live.any(axis=1)
            fired |= can
            alive &= ~killed
        outcome = np.where(~alive, 0, np.where(fired & ~real_shot, 2, 1)).astype(np.int8)
        for name, values in (("used", used), ("sorties", sorties), ("outcome", outcome),
                             ("tti", kill_time - detected[:, i]), ("detected", detected[:, i])):
            columns[name].append(values)
    return _frame(scenario, defender, columns, runs, raid, first_run)


def _fly_blocks(scenario: Scenario, defender: Defender, paths: Paths,
                first_step: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_fly` over blocks small enough for the processor's cache."""
    blocks = [_fly(scenario, defender, paths.take(slice(lo, lo + FLIGHT_BLOCK)),
                   first_step[lo:lo + FLIGHT_BLOCK])
              for lo in range(0, max(len(first_step), 1), FLIGHT_BLOCK)]
    return tuple(np.concatenate(parts) for parts in zip(*blocks, strict=True))  # type: ignore[return-value]


def _fly(scenario: Scenario, defender: Defender, paths: Paths,
         first_step: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Salvos, each against its own threat, launched at the given steps and flown together
    step by step. Per salvo: whether it came within the lethal radius, the step it ended in,
    and when."""
    total = len(first_step)
    fuzed = np.zeros(total, dtype=bool)
    end_step = np.zeros(total)
    end_t = np.full(total, np.nan)
    dt, vmax, amax = scenario.time_step_s, defender.speed_mps, defender.acceleration_mps2
    wx, wy = wind(scenario)
    lock2, lethal2 = lock_range_m(defender, scenario) ** 2, defender.lethal_radius_m ** 2
    pursuit = defender.guidance == "pure_pursuit"

    owner = np.arange(total)
    m = first_step.copy()
    px = np.full(total, launcher(scenario)[0])
    py = np.full(total, launcher(scenario)[1])
    s = np.zeros(total)
    rx, ry, locked = _relative(paths, m * dt, px, py, np.zeros(total, dtype=bool), lock2)
    ax, ay = _aim(rx, ry, locked, paths, defender.track_latency_s)
    norm = np.sqrt(np.maximum(ax * ax + ay * ay, EPS))
    dx, dy = ax / norm, ay / norm
    active = np.ones(total, dtype=bool)
    for n in range(max_steps(defender, scenario)):
        t = (m + n) * dt
        rx, ry, locked = _relative(paths, t, px, py, locked, lock2)
        ax, ay = _aim(rx, ry, locked, paths, defender.track_latency_s)
        s = np.minimum(s + amax * dt, vmax)
        r2 = np.maximum(ax * ax + ay * ay, EPS)
        if pursuit:  # turn to point at the aim point
            r = np.sqrt(r2)
            cross = (dx * ay - dy * ax) / r
            ahead = (dx * ax + dy * ay) >= 0
            a = np.where(ahead, cross, np.where(cross >= 0, 1.0, -1.0)) * s / dt
        else:  # proportional navigation: N x closing speed x line-of-sight rate
            vrx, vry = paths.vx - (s * dx + wx), paths.vy - (s * dy + wy)
            a = NAVIGATION_CONSTANT * (-(ax * vrx + ay * vry) / np.sqrt(r2)) \
                * ((ax * vry - ay * vrx) / r2)
        turn = np.clip(a, -amax, amax) * dt / s
        dx, dy = dx - turn * dy, dy + turn * dx
        norm = np.sqrt(dx * dx + dy * dy)
        dx, dy = dx / norm, dy / norm
        vix, viy = s * dx + wx, s * dy + wy
        rvx, rvy = paths.vx - vix, paths.vy - viy
        tau = np.clip(-(rx * rvx + ry * rvy) / np.maximum(rvx * rvx + rvy * rvy, EPS), 0.0, dt)
        mx, my = rx + rvx * tau, ry + rvy * tau
        hit = (mx * mx + my * my <= lethal2) & (t + tau <= paths.arrive_s)
        px, py = px + vix * dt, py + viy * dt
        spent = (n + 1) * dt >= defender.endurance_s
        done = active & (hit | (t + dt >= paths.arrive_s) | spent)
        where = owner[done]
        fuzed[where], end_step[where], end_t[where] = hit[done], (m + n)[done], (t + tau)[done]
        active &= ~done
        left = np.count_nonzero(active)
        if left == 0:
            break
        if left < COMPACT_BELOW * len(active):
            owner, m, px, py, s, dx, dy, locked = (array[active] for array in (
                owner, m, px, py, s, dx, dy, locked))
            paths = paths.take(active)
            active = np.ones(left, dtype=bool)
    return fuzed, end_step, end_t


def _relative(paths: Paths, t: np.ndarray, px: np.ndarray, py: np.ndarray,
              locked: np.ndarray, lock2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The threat relative to the interceptor, and whether the seeker holds it (it keeps it)."""
    rx = paths.x0 + paths.vx * (t - paths.start_s) - px
    ry = paths.y0 + paths.vy * (t - paths.start_s) - py
    return rx, ry, locked | (rx * rx + ry * ry <= lock2)


def _aim(rx: np.ndarray, ry: np.ndarray, locked: np.ndarray, paths: Paths,
         latency_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Locked: the threat itself; else the radar track, where it was `latency_s` ago."""
    return (np.where(locked, rx, rx - paths.vx * latency_s),
            np.where(locked, ry, ry - paths.vy * latency_s))


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
