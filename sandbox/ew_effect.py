"""Pure jammer scoring: the target's own telemetry while the jammer was on, against while off.

Inputs are plain frames on UTC seconds (the hub puts telemetry on the vehicle's clock):
- activations: `start_s`, `end_s` — the jammer on over [start, end);
- frames: `t_s`, `sender`, `seq` — every received MAVLink frame; a jump in a sender's sequence
  number is frames the link lost, counted at the frame that follows the gap;
- radio: `t_s`, `rxerrors` (RADIO_STATUS, a wrapping 16-bit counter);
- gps: `t_s`, `fix_type`, `satellites`, `eph_m` (NaN when unknown) from GPS_RAW_INT;
- track: `t_s`, `range_m` — the target's distance from the jammer.

An effect is a GPS report below a 3-D fix or a link gap. Time to effect runs from switch-on
to the first effect before switch-off; the effect range is the largest distance from the
jammer at which an effect was seen while it was on.
"""

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sandbox.detection import coarse

FIX_3D = 3


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the jammer on, or off."""

    duration_s: float
    frames_expected: int
    frames_lost: int
    link_loss_rate: float | None
    radio_rx_errors_per_min: float | None
    gps_reports: int
    gps_degraded_share: float | None
    satellites_mean: float | None
    eph_median_m: float | None


@dataclass(frozen=True)
class EwEffect:
    activations: int
    effective_activations: int
    median_time_to_effect_s: float | None
    effect_range_m: float | None
    on: Side
    off: Side
    times_to_effect_s: list[float | None]


def _on(t_s: np.ndarray, activations: pd.DataFrame) -> np.ndarray:
    starts, ends = activations["start_s"].to_numpy(float), activations["end_s"].to_numpy(float)
    if not len(starts):
        return np.zeros(len(t_s), dtype=bool)
    return ((t_s[:, None] >= starts) & (t_s[:, None] < ends)).any(axis=1)


def link_gaps(frames: pd.DataFrame) -> pd.DataFrame:
    """`t_s` and `lost` (frames missing just before it) for every received frame."""
    # Frames stamped with the same time keep their sending order by sequence number; a group
    # that straddles the wrap (255 → 0) is ordered half a turn round.
    frames = frames.astype({"seq": np.int64})
    spread = frames.groupby(["sender", "t_s"])["seq"].transform("max") - frames.groupby(
        ["sender", "t_s"])["seq"].transform("min")
    tie = np.where(spread >= 128, (frames["seq"] + 128) % 256, frames["seq"])
    ordered = frames.assign(tie=tie).sort_values(["sender", "t_s", "tie"], kind="stable")
    seq = ordered["seq"].to_numpy(np.int64)
    sender = ordered["sender"].to_numpy()
    same = np.r_[False, sender[1:] == sender[:-1]]
    step = np.where(same, (seq - np.r_[0, seq[:-1]]) % 256, 0)
    # As the decoder counts link loss: only once a sender has stepped its sequence by one
    # (some leave it at 0 throughout), and a repeated number is no loss.
    counting = pd.Series(step == 1).groupby(sender).cummax().to_numpy()
    lost = np.where(counting & (step > 1), step - 1, 0)
    return pd.DataFrame({"t_s": ordered["t_s"].to_numpy(float), "lost": lost})


def _rx_increments(radio: pd.DataFrame) -> pd.DataFrame:
    ordered = radio.sort_values("t_s")
    counts = ordered["rxerrors"].to_numpy(np.int64)
    return pd.DataFrame({"t_s": ordered["t_s"].to_numpy(float),
                         "added": np.r_[0, np.diff(counts) % 65536] if len(counts) else []})


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values.dropna()) else None


def _side(mask: dict[str, np.ndarray], gaps: pd.DataFrame, rx: pd.DataFrame, gps: pd.DataFrame,
          duration_s: float) -> Side:
    lost = int(gaps["lost"][mask["gaps"]].sum())
    expected = int(mask["gaps"].sum()) + lost
    fixes = gps[mask["gps"]]
    minutes = duration_s / 60
    return Side(
        duration_s=duration_s, frames_expected=expected, frames_lost=lost,
        link_loss_rate=lost / expected if expected else None,
        radio_rx_errors_per_min=(float(rx["added"][mask["rx"]].sum()) / minutes
                                 if len(rx) and minutes else None),
        gps_reports=len(fixes),
        gps_degraded_share=_mean(fixes["fix_type"] < FIX_3D) if len(fixes) else None,
        satellites_mean=_mean(fixes["satellites"]) if len(fixes) else None,
        eph_median_m=(float(fixes["eph_m"].median()) if fixes["eph_m"].notna().any()
                      else None))


def _effects(gaps: pd.DataFrame, gps: pd.DataFrame) -> np.ndarray:
    """Times at which an effect was seen, sorted."""
    return np.sort(np.r_[gaps["t_s"][gaps["lost"] > 0].to_numpy(float),
                         gps["t_s"][gps["fix_type"] < FIX_3D].to_numpy(float)])


def _onset(effects: np.ndarray, start: float, end: float) -> float | None:
    inside = effects[(effects >= start) & (effects < end)]
    return float(inside[0] - start) if inside.size else None


def _effect_range(effects: np.ndarray, on: np.ndarray, track: pd.DataFrame) -> float | None:
    seen = effects[on]
    if not seen.size or not len(track):
        return None
    ordered = track.sort_values("t_s")
    t = ordered["t_s"].to_numpy(float)
    inside = seen[(seen >= t[0]) & (seen <= t[-1])]
    if not inside.size:
        return None
    return float(np.interp(inside, t, ordered["range_m"].to_numpy(float)).max())


def ew_effect(activations: pd.DataFrame, frames: pd.DataFrame, radio: pd.DataFrame,
              gps: pd.DataFrame, track: pd.DataFrame) -> EwEffect:
    """The jammer's effect on the target, on against off."""
    gaps = link_gaps(frames)
    rx = _rx_increments(radio)
    times = np.r_[frames["t_s"].to_numpy(float), gps["t_s"].to_numpy(float)]
    span = (float(times.min()), float(times.max())) if times.size else (0.0, 0.0)
    clipped = (activations["end_s"].clip(upper=span[1])
               - activations["start_s"].clip(lower=span[0])).clip(lower=0)
    on_s = float(clipped.sum())
    masks = {"gaps": _on(gaps["t_s"].to_numpy(float), activations),
             "rx": _on(rx["t_s"].to_numpy(float), activations),
             "gps": _on(gps["t_s"].to_numpy(float), activations)}
    effects = _effects(gaps, gps)
    onsets = [_onset(effects, start, end) for start, end in
              zip(activations["start_s"], activations["end_s"], strict=True)]
    found = [onset for onset in onsets if onset is not None]
    return EwEffect(
        activations=len(activations), effective_activations=len(found),
        median_time_to_effect_s=float(np.median(found)) if found else None,
        effect_range_m=_effect_range(effects, _on(effects, activations), track),
        on=_side(masks, gaps, rx, gps, on_s),
        off=_side({k: ~v for k, v in masks.items()}, gaps, rx, gps, span[1] - span[0] - on_s),
        times_to_effect_s=onsets)


def feedback_figures(effect: EwEffect) -> dict[str, object]:
    """The figures an engineer may see: durations to the second, the range to 10 m; nothing
    else here is a position or a clock time."""
    figures = asdict(effect)
    figures["effect_range_m"] = coarse(effect.effect_range_m, 10)
    figures["median_time_to_effect_s"] = coarse(effect.median_time_to_effect_s, 1)
    figures["times_to_effect_s"] = [coarse(t, 1) for t in effect.times_to_effect_s]
    for side in ("on", "off"):
        figures[side]["duration_s"] = coarse(figures[side]["duration_s"], 1)
    return figures
