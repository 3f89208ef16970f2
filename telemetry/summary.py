"""Flight summary of one telemetry session: pure, over the decoded DataFrames."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from telemetry.geodesy import to_enu

LINK_GAP_S = 3.0  # HEARTBEAT is 1 Hz: three missed in a row is a link loss


@dataclass(frozen=True)
class FlightSummary:
    duration_s: float | None
    distance_flown_m: float | None
    max_altitude_m: float | None  # above home (relative altitude)
    max_ground_speed_mps: float | None
    battery_used_pct: float | None
    battery_used_mah: float | None
    link_loss_gaps: list[tuple[float, float]]  # (start s, length s) from the first message
    gps_fix_share: dict[int, float]  # fix type -> share of GPS_RAW_INT reports
    min_satellites: int | None
    track: pd.DataFrame  # t_s, east_m, north_m, up_m from the origin


def _seconds(frame: pd.DataFrame) -> np.ndarray:
    if "time_us" in frame:
        return frame["time_us"].to_numpy(np.int64) / 1e6
    if "time_boot_ms" in frame:
        return frame["time_boot_ms"].to_numpy(np.int64) / 1e3
    return np.arange(len(frame), dtype=float)


def _positions(frames: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    for name, alt in (("GLOBAL_POSITION_INT", "relative_alt"), ("GPS_RAW_INT", "alt")):
        frame = frames.get(name)
        if frame is not None and len(frame):
            fixed = frame[(frame["lat"] != 0) | (frame["lon"] != 0)]
            return pd.DataFrame({"t": _seconds(fixed), "lat": fixed["lat"] / 1e7,
                                 "lon": fixed["lon"] / 1e7, "alt_m": fixed[alt] / 1e3})
    return None


def _start(frames: dict[str, pd.DataFrame]) -> float | None:
    firsts = [_seconds(frame)[0] for frame in frames.values() if len(frame)]
    return min(firsts) if firsts else None


def flight_summary(frames: dict[str, pd.DataFrame], *,
                   origin: tuple[float, float, float] | None = None) -> FlightSummary:
    """Duration, distance, altitude, speed, battery, link gaps, GPS quality and the local track.

    Without `origin`, the track starts at the first position. Never raises on missing types.
    """
    start = _start(frames)
    times = np.concatenate([_seconds(f) for f in frames.values() if len(f)] or [np.zeros(0)])
    positions = _positions(frames)
    track = pd.DataFrame(columns=["t_s", "east_m", "north_m", "up_m"])
    distance = max_alt = None
    if positions is not None and len(positions):
        first = positions.iloc[0]
        east, north, up = to_enu(positions["lat"], positions["lon"], positions["alt_m"],
                                 origin=origin or (first["lat"], first["lon"], 0.0))
        track = pd.DataFrame({"t_s": positions["t"] - (start or 0.0), "east_m": east,
                              "north_m": north, "up_m": up})
        steps = np.sqrt(np.diff(east) ** 2 + np.diff(north) ** 2 + np.diff(up) ** 2)
        distance, max_alt = float(steps.sum()), float(positions["alt_m"].max())
    return FlightSummary(
        duration_s=float(times.max() - times.min()) if times.size else None,
        distance_flown_m=distance, max_altitude_m=max_alt,
        max_ground_speed_mps=_max(frames, "VFR_HUD", "groundspeed"),
        battery_used_pct=_used(frames, "SYS_STATUS", "battery_remaining"),
        battery_used_mah=_rise(frames, "BATTERY_STATUS", "current_consumed"),
        link_loss_gaps=_gaps(frames.get("HEARTBEAT"), start or 0.0),
        gps_fix_share=_fix_share(frames.get("GPS_RAW_INT")),
        min_satellites=_min(frames, "GPS_RAW_INT", "satellites_visible"),
        track=track)


def _column(frames: dict[str, pd.DataFrame], name: str, column: str) -> pd.Series | None:
    frame = frames.get(name)
    return frame[column] if frame is not None and len(frame) and column in frame else None


def _max(frames: dict[str, pd.DataFrame], name: str, column: str) -> float | None:
    values = _column(frames, name, column)
    return None if values is None else float(values.max())


def _min(frames: dict[str, pd.DataFrame], name: str, column: str) -> int | None:
    values = _column(frames, name, column)
    return None if values is None else int(values.min())


def _used(frames: dict[str, pd.DataFrame], name: str, column: str) -> float | None:
    values = _column(frames, name, column)
    known = values[values >= 0] if values is not None else None  # -1: autopilot does not know
    return None if known is None or known.empty else float(known.iloc[0] - known.iloc[-1])


def _rise(frames: dict[str, pd.DataFrame], name: str, column: str) -> float | None:
    values = _column(frames, name, column)
    known = values[values >= 0] if values is not None else None
    return None if known is None or known.empty else float(known.iloc[-1] - known.iloc[0])


def _gaps(heartbeats: pd.DataFrame | None, start: float) -> list[tuple[float, float]]:
    if heartbeats is None or len(heartbeats) < 2:
        return []
    seconds = np.sort(_seconds(heartbeats))
    lengths = np.diff(seconds)
    late = np.flatnonzero(lengths > LINK_GAP_S)
    return [(float(seconds[i] - start), float(lengths[i])) for i in late]


def _fix_share(gps: pd.DataFrame | None) -> dict[int, float]:
    if gps is None or not len(gps):
        return {}
    shares = gps["fix_type"].value_counts(normalize=True).sort_index()
    return {int(fix): float(share) for fix, share in shares.items()}
