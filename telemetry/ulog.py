"""PX4 ULog (.ulg) logs, read through pyulog (PX4's own parser).

One table per topic; a topic logged in several instances (two batteries, two GPS receivers)
keeps them in one table with a `multi_id` column, in time order. Columns: `time_us` (the
topic's `timestamp`, microseconds since boot), `multi_id`, then the fields as pyulog names
them (`q[0]`, `voltage_cell_v[3]`, …). pyulog reads a truncated file without complaint, so the
message framing is checked here first: a log that ends inside a message is refused.
"""

import struct
from pathlib import Path

import numpy as np
import pandas as pd
from pyulog import ULog
from pyulog.core import ULogException

from telemetry import derive
from telemetry.derive import LogFileError

MAGIC = b"ULog\x01\x12\x35"
HEADER_LEN = 16


def read_ulog(path: Path) -> dict[str, pd.DataFrame]:
    """Every topic of a ULog file, one DataFrame each."""
    _check_framing(path)
    try:
        with path.open("rb") as handle:  # pyulog leaves a file it opened open when it fails
            log = ULog(handle)
    except (ULogException, struct.error, ValueError, IndexError) as error:
        raise LogFileError(f"not a readable ULog file: {error}") from error
    if log.file_corruption:
        raise LogFileError("the ULog file is corrupt (pyulog had to resynchronise inside it)")
    instances: dict[str, list[pd.DataFrame]] = {}
    for data in log.data_list:
        table = pd.DataFrame(data.data)
        table.insert(0, "multi_id", np.full(len(table), data.multi_id, np.uint8))
        table.insert(0, "time_us", table["timestamp"].astype(np.int64))
        instances.setdefault(data.name, []).append(table)
    if not instances:
        raise LogFileError("the ULog file holds no logged messages")
    return {name: pd.concat(parts, ignore_index=True).sort_values("time_us", kind="stable")
            .reset_index(drop=True) for name, parts in instances.items()}


def _check_framing(path: Path) -> None:
    """Walk the message headers (size, type) to the end; the last one must end at the end.

    Not for a log with data appended after a crash (incompat flag bit 0 of the flag-bits
    message): offsets frame that instead, and pyulog follows them.
    """
    data = path.read_bytes()
    position, length = HEADER_LEN, len(data)
    if length < HEADER_LEN:
        raise LogFileError("not a readable ULog file: the header is cut short")
    if data[position + 2:position + 3] == b"B" and data[position + 11:position + 12] != b"\0":
        return
    while position < length:
        if length - position < 3:
            break
        position += 3 + int.from_bytes(data[position:position + 2], "little")
    if position != length:
        raise LogFileError(f"the ULog file ends inside a message (at byte {length}): the copy "
                           "is truncated; copy the log from the vehicle again")


def mavlink_tables(native: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """GPS_RAW_INT, GLOBAL_POSITION_INT, ATTITUDE, VFR_HUD and the battery tables, as far as
    the log's vehicle_gps_position (or sensor_gps), vehicle_global_position,
    vehicle_local_position, vehicle_attitude and battery_status allow."""
    out: dict[str, pd.DataFrame] = {}
    gps = derive.first_instance(native.get("vehicle_gps_position", native.get("sensor_gps")),
                         "multi_id")
    if gps is not None and "fix_type" in gps:
        out["GPS_RAW_INT"] = _gps_raw(gps)
        out["VFR_HUD"] = derive.vfr_hud_from_gps(
            out["GPS_RAW_INT"], speed_mps=gps["vel_m_s"].to_numpy(),
            alt_m=out["GPS_RAW_INT"]["alt"].to_numpy() / 1000,
            down_mps=gps["vel_d_m_s"].to_numpy() if "vel_d_m_s" in gps else None)
    position = derive.first_instance(native.get("vehicle_global_position"), "multi_id")
    if position is not None and {"lat", "lon", "alt"} <= set(position):
        out["GLOBAL_POSITION_INT"] = _position(position, native.get("home_position"),
                                               derive.first_instance(native.get(
                                                   "vehicle_local_position"), "multi_id"))
    elif "GPS_RAW_INT" in out:
        out["GLOBAL_POSITION_INT"] = derive.position_from_gps(out["GPS_RAW_INT"])
    attitude = derive.first_instance(native.get("vehicle_attitude"), "multi_id")
    if attitude is not None and {"q[0]", "q[1]", "q[2]", "q[3]"} <= set(attitude):
        out["ATTITUDE"] = _attitude(attitude, derive.first_instance(
            native.get("vehicle_angular_velocity"), "multi_id"))
    battery = derive.first_instance(native.get("battery_status"), "multi_id")
    if battery is not None and {"voltage_v", "current_a"} <= set(battery):
        out.update(derive.battery_tables(
            battery["time_us"].to_numpy(), volts=battery["voltage_v"].to_numpy(),
            amps=battery["current_a"].to_numpy(),
            remaining_pct=battery["remaining"].to_numpy() * 100 if "remaining" in battery
            else None,
            used_mah=battery["discharged_mah"].to_numpy() if "discharged_mah" in battery
            else None,
            temperature_c=battery["temperature"].to_numpy() if "temperature" in battery
            else None))
    return out


def _gps_raw(gps: pd.DataFrame) -> pd.DataFrame:
    """Both layouts: `lat`/`lon` in 1e-7° and `alt` in mm (before PX4 1.14), or
    `latitude_deg`/`longitude_deg`/`altitude_msl_m`."""
    if "latitude_deg" in gps:
        lat = derive.rounded(gps["latitude_deg"], 1e7, np.int32)
        lon = derive.rounded(gps["longitude_deg"], 1e7, np.int32)
        alt = derive.rounded(gps["altitude_msl_m"], 1000, np.int32)
    else:
        lat, lon, alt = (gps[c].to_numpy(np.int32) for c in ("lat", "lon", "alt"))
    table = {"time_us": gps["time_us"].to_numpy(np.int64),
             "time_usec": gps.get("time_utc_usec", gps["timestamp"]).to_numpy(np.uint64),
             "fix_type": gps["fix_type"].to_numpy(np.uint8), "lat": lat, "lon": lon, "alt": alt,
             "eph": derive.rounded(gps["hdop"], 100, np.uint16) if "hdop" in gps
             else np.full(len(gps), derive.UNKNOWN_U16, np.uint16),
             "epv": derive.rounded(gps["vdop"], 100, np.uint16) if "vdop" in gps
             else np.full(len(gps), derive.UNKNOWN_U16, np.uint16),
             "vel": derive.rounded(gps["vel_m_s"], 100, np.uint16),
             "cog": derive.centidegrees(np.degrees(gps["cog_rad"].to_numpy(float))),
             "satellites_visible": gps["satellites_used"].to_numpy(np.uint8)}
    return pd.DataFrame(table)


def _position(position: pd.DataFrame, home: pd.DataFrame | None,
              local: pd.DataFrame | None) -> pd.DataFrame:
    """vehicle_global_position, with height above home and the local velocity and heading."""
    alt_m = position["alt"].to_numpy(float)
    home_m = (float(home["alt"].iloc[0]) if home is not None and len(home) and "alt" in home
              else float(alt_m[0]))
    table = {**derive.timed(position["time_us"]),
             "lat": derive.rounded(position["lat"], 1e7, np.int32),
             "lon": derive.rounded(position["lon"], 1e7, np.int32),
             "alt": derive.rounded(alt_m, 1000, np.int32),
             "relative_alt": derive.rounded(alt_m - home_m, 1000, np.int32)}
    heading = "heading" if local is not None and "heading" in local else "yaw"
    moving = derive.nearest_before(table["time_us"], local, ["vx", "vy", "vz", heading])
    if moving is not None:
        for axis in ("vx", "vy", "vz"):
            table[axis] = derive.rounded(moving[axis], 100, np.int16)
        table["hdg"] = derive.centidegrees(np.degrees(moving[heading].to_numpy(float)))
    return pd.DataFrame(table)


def _attitude(attitude: pd.DataFrame, rates: pd.DataFrame | None) -> pd.DataFrame:
    """Quaternion (w, x, y, z) to roll, pitch, yaw; body rates from the same topic (older PX4)
    or vehicle_angular_velocity."""
    w, x, y, z = (attitude[f"q[{i}]"].to_numpy(float) for i in range(4))
    table = {**derive.timed(attitude["time_us"]),
             "roll": np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)).astype(np.float32),
             "pitch": np.arcsin(np.clip(2 * (w * y - z * x), -1, 1)).astype(np.float32),
             "yaw": np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)).astype(np.float32)}
    if {"rollspeed", "pitchspeed", "yawspeed"} <= set(attitude):
        speeds = attitude[["rollspeed", "pitchspeed", "yawspeed"]]
    else:
        speeds = derive.nearest_before(table["time_us"], rates, ["xyz[0]", "xyz[1]", "xyz[2]"])
    if speeds is not None:
        for axis, column in zip(("rollspeed", "pitchspeed", "yawspeed"), speeds.columns,
                                strict=True):
            table[axis] = speeds[column].to_numpy(np.float32)
    return pd.DataFrame(table)
