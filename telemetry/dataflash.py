"""ArduPilot DataFlash (.bin) logs: a vectorised reader, equal to pymavlink's DFReader.

A log is a run of messages `A3 95 <type> <body>`; FMT messages (type 128) define each type's
name, length, field formats and column names, and may appear anywhere before first use. The
walk over the bytes is sequential (an FMT changes how the bytes after it are cut), so it runs
under numba; the bodies of each type are then decoded at once as a numpy record array.

Equal to `DFReader_binary.recv_msg()` message for message (tests/telemetry/test_logs.py):
the same resynchronisation over garbage, the same scaling of the `c C e E L` formats (divided,
as DFReader divides), strings cut at the first NUL (UTF-8, else Latin-1), `a` as 32 int16s
(columns `name_0 … name_31`). Unlike DFReader, a log that ends inside a message is refused:
a truncated copy is not evidence.
"""

import numpy as np
import pandas as pd
from numba import njit

from telemetry.derive import (
    LogFileError,
    battery_tables,
    centidegrees,
    first_instance,
    nearest_before,
    position_from_gps,
    rounded,
    timed,
    vfr_hud_from_gps,
    wrapped_radians,
)

MAGIC = b"\xa3\x95"
FMT_TYPE, FMT_LENGTH = 0x80, 89
END_GARBAGE = 528  # DFReader stops at an unreadable body this close to the end of a file
# format character -> (numpy type, multiplier) as in DFReader.FORMAT_TO_STRUCT
FORMATS: dict[str, tuple[str, float | None]] = {
    "a": ("(32,)<i2", None), "b": ("i1", None), "B": ("u1", None), "g": ("<f2", None),
    "h": ("<i2", None), "H": ("<u2", None), "i": ("<i4", None), "I": ("<u4", None),
    "f": ("<f4", None), "n": ("S4", None), "N": ("S16", None), "Z": ("S64", None),
    "c": ("<i2", 0.01), "C": ("<u2", 0.01), "e": ("<i4", 0.01), "E": ("<u4", 0.01),
    "L": ("<i4", 1.0e-7), "d": ("<f8", None), "M": ("i1", None), "q": ("<i8", None),
    "Q": ("<u8", None),
}
SIZES = np.full(256, -1, dtype=np.int64)
for _char, (_code, _) in FORMATS.items():
    SIZES[ord(_char)] = np.dtype(_code).itemsize


@njit(cache=True, nogil=True)
def _format_size(buf: np.ndarray, start: int, sizes: np.ndarray) -> int:
    """Body size of an FMT's 16-character format string; -1 if a character is unknown."""
    total = 0
    for i in range(start, start + 16):
        if buf[i] == 0:
            break
        if sizes[buf[i]] < 0:
            return -1
        total += sizes[buf[i]]
    return total


@njit(cache=True, nogil=True)
def _walk(buf: np.ndarray, sizes: np.ndarray, offsets: np.ndarray,
          types: np.ndarray) -> tuple[int, int, int]:
    """Message starts and types, in file order: (count, bytes skipped, offset of a cut message
    or -1)."""
    lengths = np.full(256, -1, dtype=np.int64)
    bodies = np.full(256, -1, dtype=np.int64)
    lengths[FMT_TYPE], bodies[FMT_TYPE] = FMT_LENGTH, FMT_LENGTH - 3
    n, pos, count, skipped = buf.shape[0], 0, 0, 0
    while n - pos >= 3:
        kind = buf[pos + 2]
        if buf[pos] != 0xA3 or buf[pos + 1] != 0x95 or lengths[kind] < 0:
            pos, skipped = pos + 1, skipped + 1
            continue
        if n - pos < lengths[kind]:
            return count, skipped, pos
        body = bodies[kind]
        if kind == FMT_TYPE and body + 3 == lengths[kind]:
            body = _format_size(buf, pos + 9, sizes)
            if body >= 0:
                lengths[buf[pos + 3]], bodies[buf[pos + 3]] = buf[pos + 4], body
            body = FMT_LENGTH - 3 if body >= 0 else -1
        if body + 3 != lengths[kind]:  # the body does not unpack: DFReader skips the header
            if n - pos - 3 < END_GARBAGE:
                break
            pos, skipped = pos + 3, skipped + 3
            continue
        offsets[count], types[count] = pos, kind
        count += 1
        pos += lengths[kind]
    return count, skipped + max(n - pos, 0), -1


class Definition:
    """One FMT: a type's name, columns and record layout."""

    def __init__(self, name: str, formats: str, columns: list[str]) -> None:
        self.name, self.formats = name, formats
        self.columns = columns[:len(formats)]
        self.dtype = np.dtype([(f"f{i}", FORMATS[c][0]) for i, c in enumerate(formats)])


FMT = Definition("FMT", "BBnNZ", ["Type", "Length", "Name", "Format", "Columns"])


def read_dataflash(data: bytes | np.ndarray) -> dict[str, pd.DataFrame]:
    """Every message of a DataFlash log, one DataFrame per message name, in file order."""
    buf = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    # a message takes at least its 3 header bytes; int32 offsets halve this index below 2 GiB
    offsets = np.empty(buf.shape[0] // 3 + 1,
                       dtype=np.int32 if buf.shape[0] < 2**31 else np.int64)
    types = np.empty(offsets.shape[0], dtype=np.uint8)
    count, _skipped, cut = _walk(buf, SIZES, offsets, types)
    offsets, types = offsets[:count], types[:count]
    formats = _definitions(buf, offsets[types == FMT_TYPE])
    if cut >= 0:
        name = formats[int(buf[cut + 2])][-1][1].name
        raise LogFileError(f"the DataFlash log ends inside a {name} message at byte {cut}: "
                           "the copy is truncated; copy the log from the vehicle again")
    if not count:
        raise LogFileError("no DataFlash messages found")
    tables: dict[str, list[pd.DataFrame]] = {}
    for kind in np.unique(types):
        starts = offsets[types == kind]
        defined = formats[int(kind)]
        which = np.clip(np.searchsorted([at for at, _ in defined], starts, side="right") - 1,
                        0, None)
        for index, (_, definition) in enumerate(defined):
            picked = starts[which == index]
            if picked.size:
                tables.setdefault(definition.name, []).append(_table(buf, picked, definition))
    return {name: _in_file_order(parts) for name, parts in tables.items()}


def _definitions(buf: np.ndarray, starts: np.ndarray) -> dict[int, list[tuple[int, Definition]]]:
    """Each type's FMTs in file order, with the offset from which each applies."""
    formats: dict[int, list[tuple[int, Definition]]] = {FMT_TYPE: [(-1, FMT)]}
    for start, row in zip(starts, _table(buf, starts, FMT).itertuples(index=False), strict=True):
        definition = Definition(row.Name, row.Format,
                                row.Columns.split(",") if row.Columns else [])
        formats.setdefault(int(row.Type), []).append((int(start), definition))
    return formats


def _table(buf: np.ndarray, starts: np.ndarray, definition: Definition) -> pd.DataFrame:
    body = definition.dtype.itemsize
    records = (buf[(starts + 3)[:, None] + np.arange(body)].view(definition.dtype).ravel()
               if body else np.zeros(len(starts), definition.dtype))
    columns: dict[str, object] = {"_offset": starts}
    for i, (name, char) in enumerate(zip(definition.columns, definition.formats, strict=False)):
        columns.update(_column(name, char, records[f"f{i}"], raw_text=definition.name == "FILE"))
    table = pd.DataFrame(columns)
    if "TimeUS" in table:
        table.insert(0, "time_us", table["TimeUS"].astype(np.int64))
    return table


def _column(name: str, char: str, values: np.ndarray, *, raw_text: bool) -> dict[str, object]:
    if char == "a":
        return {f"{name}_{i}": values[:, i].astype(np.int16) for i in range(values.shape[1])}
    if values.dtype.kind == "S":
        if raw_text:  # DFReader hands FILE contents over as the raw bytes
            width = values.dtype.itemsize
            return {name: np.array([v.ljust(width, b"\0") for v in values], dtype=object)}
        return {name: _text(values)}
    multiplier = FORMATS[char][1]
    if multiplier is not None:  # DFReader divides by the inverse: that rounds differently
        return {name: values.astype(np.float64) / (1 / multiplier)}
    if values.dtype == np.float16:
        return {name: values.astype(np.float32)}
    return {name: values.astype(values.dtype.newbyteorder("="))}


def _text(values: np.ndarray) -> np.ndarray:
    seen: dict[bytes, str] = {}
    return np.array([seen.get(raw) or seen.setdefault(raw, _decoded(raw)) for raw in values],
                    dtype=object)


def _decoded(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("ISO-8859-1")
    return text.split("\0", 1)[0]


def _in_file_order(parts: list[pd.DataFrame]) -> pd.DataFrame:
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    table = table.sort_values("_offset", kind="stable") if len(parts) > 1 else table
    return table.drop(columns="_offset").reset_index(drop=True)


def mavlink_tables(native: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """GPS_RAW_INT, GLOBAL_POSITION_INT, ATTITUDE, VFR_HUD and the battery tables, as far as
    the log's GPS, POS, ATT, IMU, BAT (or CURR) messages allow."""
    out: dict[str, pd.DataFrame] = {}
    gps = first_instance(native.get("GPS"), "I")
    if gps is not None and {"TimeUS", "Status", "Lat", "Lng", "Alt", "Spd", "GCrs"} <= set(gps):
        out["GPS_RAW_INT"] = _gps_raw(gps)
        out["VFR_HUD"] = vfr_hud_from_gps(
            out["GPS_RAW_INT"], speed_mps=gps["Spd"].to_numpy(), alt_m=gps["Alt"].to_numpy(),
            down_mps=gps["VZ"].to_numpy() if "VZ" in gps else None)
    position = native.get("POS")
    if position is not None and {"TimeUS", "Lat", "Lng", "Alt", "RelHomeAlt"} <= set(position):
        out["GLOBAL_POSITION_INT"] = _position(position, gps, native.get("ATT"))
    elif "GPS_RAW_INT" in out:
        out["GLOBAL_POSITION_INT"] = position_from_gps(out["GPS_RAW_INT"])
    attitude = native.get("ATT")
    if attitude is not None and {"TimeUS", "Roll", "Pitch", "Yaw"} <= set(attitude):
        out["ATTITUDE"] = _attitude(attitude, first_instance(native.get("IMU"), "I"))
    out.update(_battery(native))
    return out


def _gps_raw(gps: pd.DataFrame) -> pd.DataFrame:
    table = {"time_us": gps["TimeUS"].to_numpy(np.int64),
             "time_usec": gps["TimeUS"].to_numpy(np.uint64),
             "fix_type": gps["Status"].to_numpy(np.uint8),
             "lat": rounded(gps["Lat"], 1e7, np.int32), "lon": rounded(gps["Lng"], 1e7, np.int32),
             "alt": rounded(gps["Alt"], 1000, np.int32),
             "vel": rounded(gps["Spd"], 100, np.uint16), "cog": centidegrees(gps["GCrs"])}
    if "HDop" in gps:
        table["eph"] = rounded(gps["HDop"], 100, np.uint16)
    if "NSats" in gps:
        table["satellites_visible"] = gps["NSats"].to_numpy(np.uint8)
    return pd.DataFrame(table)


def _position(position: pd.DataFrame, gps: pd.DataFrame | None,
              attitude: pd.DataFrame | None) -> pd.DataFrame:
    """POS with the GPS velocity and the attitude's yaw of the moment."""
    table = {**timed(position["TimeUS"]), "lat": rounded(position["Lat"], 1e7, np.int32),
             "lon": rounded(position["Lng"], 1e7, np.int32),
             "alt": rounded(position["Alt"], 1000, np.int32),
             "relative_alt": rounded(position["RelHomeAlt"], 1000, np.int32)}
    velocity = nearest_before(table["time_us"], _timed(gps), ["Spd", "GCrs", "VZ"])
    if velocity is not None:
        course = np.radians(velocity["GCrs"].to_numpy(float))
        table["vx"] = rounded(velocity["Spd"] * np.cos(course), 100, np.int16)
        table["vy"] = rounded(velocity["Spd"] * np.sin(course), 100, np.int16)
        table["vz"] = rounded(velocity["VZ"], 100, np.int16)
    heading = nearest_before(table["time_us"], _timed(attitude), ["Yaw"])
    if heading is not None:
        table["hdg"] = centidegrees(heading["Yaw"])
    return pd.DataFrame(table)


def _timed(table: pd.DataFrame | None) -> pd.DataFrame | None:
    return table if table is None or "time_us" in table else None


def _attitude(attitude: pd.DataFrame, imu: pd.DataFrame | None) -> pd.DataFrame:
    table = {**timed(attitude["TimeUS"]), "roll": wrapped_radians(attitude["Roll"]),
             "pitch": wrapped_radians(attitude["Pitch"]), "yaw": wrapped_radians(attitude["Yaw"])}
    rates = nearest_before(table["time_us"], _timed(imu), ["GyrX", "GyrY", "GyrZ"])
    if rates is not None:
        for axis, column in (("roll", "GyrX"), ("pitch", "GyrY"), ("yaw", "GyrZ")):
            table[f"{axis}speed"] = rates[column].to_numpy(np.float32)
    return pd.DataFrame(table)


def _battery(native: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    battery = native.get("BAT") if "BAT" in native else native.get("CURR")
    battery = first_instance(first_instance(battery, "Instance"), "Inst")
    if battery is None or not {"TimeUS", "Volt", "Curr"} <= set(battery):
        return {}
    return battery_tables(battery["TimeUS"].to_numpy(np.int64),
                          volts=battery["Volt"].to_numpy(), amps=battery["Curr"].to_numpy(),
                          remaining_pct=battery["RemPct"].to_numpy() if "RemPct" in battery
                          else None,
                          used_mah=battery["CurrTot"].to_numpy() if "CurrTot" in battery
                          else None,
                          temperature_c=battery["Temp"].to_numpy() if "Temp" in battery
                          else None)
