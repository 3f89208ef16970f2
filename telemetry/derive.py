"""MAVLink-named tables derived from onboard logs, in MAVLink units. Pure.

The flight summary, engineer redaction, the live view and the track page read
GLOBAL_POSITION_INT, ATTITUDE, VFR_HUD, GPS_RAW_INT, SYS_STATUS and BATTERY_STATUS. A DataFlash
or ULog file carries the same quantities under other names and units; its reader builds these
tables from them with the helpers here. A field the log does not carry is left out (never
invented), except where MAVLink defines an "unknown" value (UINT16_MAX, -1).
"""

import numpy as np
import pandas as pd

UNKNOWN_U16 = 65535


class LogFileError(ValueError):
    """A log file that cannot be read whole: the message says what is wrong with it."""


def rounded(values: pd.Series | np.ndarray, scale: float, dtype: type) -> np.ndarray:
    """`values × scale` rounded to the MAVLink integer type; NaN becomes 0."""
    scaled = np.round(np.asarray(values, dtype=float) * scale)
    info = np.iinfo(dtype)
    return np.clip(np.nan_to_num(scaled), info.min, info.max).astype(dtype)


def centidegrees(degrees: pd.Series | np.ndarray) -> np.ndarray:
    """A heading in degrees as MAVLink's 0 … 35999 centidegrees."""
    return rounded(np.mod(np.asarray(degrees, dtype=float), 360.0), 100, np.uint16) % 36000


def wrapped_radians(degrees: pd.Series | np.ndarray) -> np.ndarray:
    """Degrees as radians in (-π, π], as ATTITUDE carries yaw."""
    radians = np.radians(np.asarray(degrees, dtype=float))
    return np.arctan2(np.sin(radians), np.cos(radians)).astype(np.float32)


def timed(time_us: pd.Series | np.ndarray) -> dict[str, np.ndarray]:
    """The two time columns every derived table starts with."""
    micros = np.asarray(time_us, dtype=np.int64)
    return {"time_us": micros, "time_boot_ms": (micros // 1000).astype(np.uint32)}


def nearest_before(times_us: np.ndarray, other: pd.DataFrame | None,
                   columns: list[str]) -> pd.DataFrame | None:
    """For each time, the latest row of `other` at or before it (its first row before that)."""
    if other is None or not len(other) or not set(columns) <= set(other.columns):
        return None
    order = np.argsort(other["time_us"].to_numpy(np.int64), kind="stable")
    stamps = other["time_us"].to_numpy(np.int64)[order]
    index = np.clip(np.searchsorted(stamps, times_us, side="right") - 1, 0, None)
    return other[columns].iloc[order[index]].reset_index(drop=True)


def first_instance(table: pd.DataFrame | None, column: str) -> pd.DataFrame | None:
    """Rows of the first (primary) sensor instance, where a log keeps several."""
    if table is None or not len(table):
        return None
    if column not in table.columns:
        return table.reset_index(drop=True)
    return table[table[column] == table[column].min()].reset_index(drop=True)


def position_from_gps(gps: pd.DataFrame) -> pd.DataFrame:
    """GLOBAL_POSITION_INT from GPS_RAW_INT, for logs without a fused position.

    Height above home is taken from the first fixed report, the take-off point of a log that
    starts on the ground.
    """
    fixed = gps[(gps["fix_type"] >= 3) & ((gps["lat"] != 0) | (gps["lon"] != 0))]
    home_mm = int(fixed["alt"].iloc[0]) if len(fixed) else 0
    return pd.DataFrame({"time_us": gps["time_us"].to_numpy(np.int64),
                         "time_boot_ms": (gps["time_us"].to_numpy(np.int64) // 1000).astype(
                             np.uint32),
                         "lat": gps["lat"].to_numpy(np.int32), "lon": gps["lon"].to_numpy(np.int32),
                         "alt": gps["alt"].to_numpy(np.int32),
                         "relative_alt": (gps["alt"].to_numpy(np.int64) - home_mm).astype(np.int32),
                         "hdg": np.full(len(gps), UNKNOWN_U16, np.uint16)})


def vfr_hud_from_gps(gps: pd.DataFrame, *, speed_mps: np.ndarray, alt_m: np.ndarray,
                     down_mps: np.ndarray | None) -> pd.DataFrame:
    """VFR_HUD from a GPS track: ground speed, course as heading, altitude, climb."""
    table = pd.DataFrame({"time_us": gps["time_us"].to_numpy(np.int64),
                          "groundspeed": np.asarray(speed_mps, dtype=np.float32),
                          "heading": (gps["cog"].to_numpy(np.int64) // 100).astype(np.int16),
                          "alt": np.asarray(alt_m, dtype=np.float32)})
    if down_mps is not None:
        table["climb"] = -np.asarray(down_mps, dtype=np.float32)
    return table


def battery_tables(time_us: np.ndarray, *, volts: np.ndarray, amps: np.ndarray,
                   remaining_pct: np.ndarray | None, used_mah: np.ndarray | None,
                   temperature_c: np.ndarray | None) -> dict[str, pd.DataFrame]:
    """SYS_STATUS and BATTERY_STATUS from one battery's voltage, current and charge."""
    remaining = (rounded(remaining_pct, 1, np.int8) if remaining_pct is not None
                 else np.full(len(time_us), -1, np.int8))
    status = {"time_us": np.asarray(time_us, dtype=np.int64),
              "voltage_battery": rounded(volts, 1000, np.uint16),
              "current_battery": np.where(np.asarray(amps, dtype=float) < 0, -1,  # unknown
                                          rounded(amps, 100, np.int16)).astype(np.int16),
              "battery_remaining": remaining}
    battery = {"time_us": status["time_us"], "id": np.zeros(len(time_us), np.uint8),
               "current_battery": status["current_battery"],
               "battery_remaining": remaining, "voltages_0": status["voltage_battery"]}
    if used_mah is not None:
        battery["current_consumed"] = rounded(used_mah, 1, np.int32)
    if temperature_c is not None:
        battery["temperature"] = rounded(temperature_c, 100, np.int16)
    return {"SYS_STATUS": pd.DataFrame(status), "BATTERY_STATUS": pd.DataFrame(battery)}
