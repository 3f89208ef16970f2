"""Telemetry fit for engineers: an allow-list of messages and fields, positions only as metres
from a secret origin, times from the session start. Pure.

Position also hides outside GLOBAL_POSITION_INT (HOME_POSITION, MISSION_ITEM_INT, ADSB_VEHICLE,
GPS_RAW_INT, GPS_GLOBAL_ORIGIN, …) and in absolute clocks (GPS time_usec); anything not listed
here is dropped, so a message added to a dialect later stays out until someone allows it.
"""

import numpy as np
import pandas as pd

from telemetry.geodesy import to_enu

ALLOWLIST: dict[str, tuple[str, ...]] = {
    "HEARTBEAT": ("type", "autopilot", "base_mode", "custom_mode", "system_status"),
    "ATTITUDE": ("time_boot_ms", "roll", "pitch", "yaw", "rollspeed", "pitchspeed", "yawspeed"),
    "VFR_HUD": ("airspeed", "groundspeed", "heading", "throttle", "climb"),  # alt: AMSL, out
    "SYS_STATUS": ("voltage_battery", "current_battery", "battery_remaining", "load",
                   "drop_rate_comm", "errors_comm"),
    "BATTERY_STATUS": ("current_consumed", "energy_consumed", "temperature", "current_battery",
                       "battery_remaining", "time_remaining",
                       *(f"voltages_{i}" for i in range(10))),
    "SERVO_OUTPUT_RAW": tuple(f"servo{i}_raw" for i in range(1, 17)),
    "RAW_IMU": ("xacc", "yacc", "zacc", "xgyro", "ygyro", "zgyro"),  # magnetometer: out
    "GPS_RAW_INT": ("fix_type", "satellites_visible", "eph", "epv", "vel", "cog"),
    "GLOBAL_POSITION_INT": ("time_boot_ms", "vx", "vy", "vz", "hdg"),  # + local position
}


# A log whose topics run on two clocks (a PX4 simulator's: some from zero at boot, some in
# Unix time) would give "seconds from the start" that are the flight's date and hour.
OTHER_CLOCK_US = 86_400 * 1_000_000


def redact_telemetry(frames: dict[str, pd.DataFrame], *, origin: tuple[float, float, float],
                     start_us: int | None = None,
                     coarsen_m: float | None = None) -> dict[str, pd.DataFrame]:
    """Allow-listed messages and fields; GLOBAL_POSITION_INT as east/north/up metres."""
    out = {}
    for name, frame in frames.items():
        if name not in ALLOWLIST or frame.empty:
            continue
        kept = frame[[c for c in ALLOWLIST[name] if c in frame.columns]].copy()
        if "time_us" in frame.columns and start_us is not None:
            times = frame["time_us"].to_numpy(np.int64)
            first = int(times.min())
            zero = first if abs(first - start_us) > OTHER_CLOCK_US else start_us
            kept.insert(0, "t_s", (times - zero) / 1e6)
            if "time_boot_ms" in kept:  # the vehicle's clock, which may be Unix time: re-based
                kept["time_boot_ms"] = np.round(kept["t_s"].to_numpy() * 1000).clip(
                    0, 2**32 - 1).astype(np.uint32)
        if name == "GLOBAL_POSITION_INT":
            east, north, _ = to_enu(frame["lat"] / 1e7, frame["lon"] / 1e7,
                                    np.zeros(len(frame)), origin=origin)
            step = coarsen_m or 0
            kept["east_m"] = np.round(east / step) * step if step else east
            kept["north_m"] = np.round(north / step) * step if step else north
            kept["up_m"] = frame["relative_alt"].to_numpy(float) / 1e3
        out[name] = kept.reset_index(drop=True)
    return out
