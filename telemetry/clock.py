"""Telemetry on UTC by the vehicle's own clock: pure, over decoded DataFrames.

A vehicle stamps most messages with `time_boot_ms`; SYSTEM_TIME pairs that clock with UNIX
time (`time_unix_usec`, from GPS, zero until the autopilot knows it). The offset between the
two, per system id, puts every boot-stamped message on UTC. Without SYSTEM_TIME, a tlog's
stamps (`time_us`, written as each frame reached the ground station) anchor the boot clock
instead: the median offset over all stamped messages, so link jitter does not move the track.
Messages with no clock of their own (RADIO_STATUS) take their tlog stamp. The hub's arrival
time is never used: a live stream without SYSTEM_TIME has no UTC.
"""

import numpy as np
import pandas as pd

UNIX_US_FLOOR = 1e15  # GPS_RAW_INT.time_usec above this is UNIX time (2001 on), below: boot


def _pairs(frame: pd.DataFrame, unix_us: str) -> pd.DataFrame:
    if not len(frame) or unix_us not in frame or "time_boot_ms" not in frame:
        return pd.DataFrame(columns=["sysid", "offset_ms"])
    valid = frame[(frame[unix_us] > UNIX_US_FLOOR) & (frame["time_boot_ms"] > 0)]
    return pd.DataFrame({"sysid": valid["sysid"].astype(int),
                         "offset_ms": valid[unix_us].to_numpy(float) / 1e3
                         - valid["time_boot_ms"].to_numpy(float)})


def clock_offsets_ms(frames: dict[str, pd.DataFrame]) -> dict[int, float]:
    """UNIX ms minus boot ms, per system id: SYSTEM_TIME first, tlog stamps else."""
    own = _pairs(frames.get("SYSTEM_TIME", pd.DataFrame()), "time_unix_usec")
    offsets = own.groupby("sysid")["offset_ms"].median().to_dict()
    stamped = pd.concat([_pairs(frame, "time_us") for frame in frames.values()] or
                        [pd.DataFrame(columns=["sysid", "offset_ms"])])
    for sysid, offset in stamped.groupby("sysid")["offset_ms"].median().items():
        offsets.setdefault(int(sysid), float(offset))
    return {int(k): float(v) for k, v in offsets.items()}


def utc_seconds(frame: pd.DataFrame, offsets_ms: dict[int, float]) -> np.ndarray:
    """UTC seconds of each row; NaN where the row has no clock that reaches UTC."""
    out = np.full(len(frame), np.nan)
    if not len(frame):
        return out
    offset = frame["sysid"].astype(int).map(offsets_ms).to_numpy(float)
    if "time_boot_ms" in frame:
        out = (frame["time_boot_ms"].to_numpy(float) + offset) / 1e3
    elif "time_usec" in frame:
        usec = frame["time_usec"].to_numpy(float)
        out = np.where(usec > UNIX_US_FLOOR, usec / 1e6, (usec / 1e3 + offset) / 1e3)
    if "time_us" in frame:
        out = np.where(np.isnan(out), frame["time_us"].to_numpy(float) / 1e6, out)
    return np.asarray(out, float)


def utc_positions(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """GLOBAL_POSITION_INT on UTC: sysid, t_s, lat_deg, lon_deg, alt_msl_m (no-fix rows and
    rows without a clock dropped), sorted by sysid and time."""
    frame = frames.get("GLOBAL_POSITION_INT", pd.DataFrame())
    columns = ["sysid", "t_s", "lat_deg", "lon_deg", "alt_msl_m"]
    if not len(frame):
        return pd.DataFrame(columns=columns)
    track = pd.DataFrame({"sysid": frame["sysid"].astype(int),
                          "t_s": utc_seconds(frame, clock_offsets_ms(frames)),
                          "lat_deg": frame["lat"].to_numpy(float) / 1e7,
                          "lon_deg": frame["lon"].to_numpy(float) / 1e7,
                          "alt_msl_m": frame["alt"].to_numpy(float) / 1e3})
    fixed = ((frame["lat"] != 0) | (frame["lon"] != 0)).to_numpy() & track["t_s"].notna()
    return (track[fixed].sort_values(["sysid", "t_s"], kind="stable")
            .drop_duplicates(["sysid", "t_s"]).reset_index(drop=True))
