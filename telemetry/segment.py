"""Stored messages back into a .tlog: MAVLink 2 frames, each after its 8-byte big-endian
microsecond stamp, in time order. Pure.

Built type by type as numpy arrays (payload records in wire order, header, CRC), then scattered
into one buffer in time order. A field the table lacks is sent as zero; tables whose name is not
a MAVLink message of the dialect (a DataFlash or ULog log's own tables) are left out.
Engineers get no raw positions: `local_tables` turns their redacted tables (metres from the
trial's secret origin, seconds from the session start) into MAVLink fields around 0° N 0° E at
the epoch, so a ground station replays the track's shape and timing, never its place or date.
"""

from functools import cache

import numpy as np
import pandas as pd
from numba import njit

from telemetry.dialect import MessageSpec, load_dialect
from telemetry.framing import CRC_TABLE, STX_V2
from telemetry.geodesy import E2, A

HEADER_LEN, STAMP_LEN = 10, 8
# metres per degree at 0° N 0° E: meridian and prime-vertical radii of curvature of WGS84
M_PER_DEG_NORTH = np.radians(1.0) * A * (1 - E2)
M_PER_DEG_EAST = np.radians(1.0) * A


@njit(cache=True, nogil=True)
def _crcs(frames: np.ndarray, end: int, extra: int) -> np.ndarray:
    """X.25 CRC of each row's bytes 1 … end-1 and CRC_EXTRA (the frame's checksum)."""
    out = np.empty(frames.shape[0], dtype=np.uint16)
    for row in range(frames.shape[0]):
        crc = 0xFFFF
        for i in range(1, end):
            crc = (crc >> 8) ^ CRC_TABLE[(crc ^ frames[row, i]) & 0xFF]
        out[row] = (crc >> 8) ^ CRC_TABLE[(crc ^ extra) & 0xFF]
    return out


@cache
def mavlink_names(dialect: str = "ardupilotmega") -> frozenset[str]:
    return frozenset(spec.name for spec in load_dialect(dialect).messages.values())


def tlog_bytes(tables: dict[str, pd.DataFrame], *, dialect: str = "ardupilotmega") -> bytes:
    """Every row of every MAVLink table that has a `time_us`, as one time-ordered .tlog."""
    specs = {spec.name: spec for spec in load_dialect(dialect).messages.values()}
    blocks = [(_records(specs[name], table), table["time_us"].to_numpy(np.int64))
              for name, table in tables.items()
              if name in specs and len(table) and "time_us" in table]
    if not blocks:
        return b""
    times = np.concatenate([stamps for _, stamps in blocks])
    widths = np.concatenate([np.full(len(stamps), records.shape[1])
                             for records, stamps in blocks])
    order = np.argsort(times, kind="stable")
    starts = np.empty(len(order), dtype=np.int64)
    starts[order] = np.concatenate(([0], np.cumsum(widths[order])[:-1]))
    out, first = np.empty(int(widths.sum()), dtype=np.uint8), 0
    for records, stamps in blocks:
        at = starts[first:first + len(stamps)]
        out[at[:, None] + np.arange(records.shape[1])] = records
        first += len(stamps)
    return out.tobytes()


def _records(spec: MessageSpec, table: pd.DataFrame) -> np.ndarray:
    """Stamp + frame of each row, as a (rows, bytes) array."""
    rows, length = len(table), spec.wire_length
    frames = np.zeros((rows, STAMP_LEN + HEADER_LEN + length + 2), dtype=np.uint8)
    frames[:, :STAMP_LEN] = table["time_us"].to_numpy(">u8").view(np.uint8).reshape(rows, 8)
    frame = frames[:, STAMP_LEN:]
    frame[:, 0], frame[:, 1] = STX_V2, length
    frame[:, 4] = _column(table, "packet_seq", np.arange(rows) % 256)
    frame[:, 5] = _column(table, "sysid", 1)
    frame[:, 6] = _column(table, "compid", 1)
    frame[:, 7:10] = np.frombuffer(spec.msgid.to_bytes(3, "little"), dtype=np.uint8)
    frame[:, HEADER_LEN:HEADER_LEN + length] = _payloads(spec, table).view(np.uint8).reshape(
        rows, length)
    crc = _crcs(np.ascontiguousarray(frame), HEADER_LEN + length, spec.crc_extra)
    frame[:, -2], frame[:, -1] = crc & 0xFF, crc >> 8
    return frames


def _column(table: pd.DataFrame, name: str, default: object) -> np.ndarray:
    return table[name].to_numpy() if name in table else np.broadcast_to(default, len(table))


def _payloads(spec: MessageSpec, table: pd.DataFrame) -> np.ndarray:
    records = np.zeros(len(table), dtype=spec.wire_dtype)
    for name in spec.fieldnames:
        if name in spec.char_fields and name in table:
            records[name] = [str(text).encode("ascii", "replace") for text in table[name]]
        elif name in spec.array_lengths:
            for index in range(spec.array_lengths[name]):
                if f"{name}_{index}" in table:
                    records[name][:, index] = table[f"{name}_{index}"].to_numpy()
        elif name in table:
            values = table[name].to_numpy()
            integral = np.issubdtype(spec.wire_dtype[name], np.integer)
            records[name] = np.nan_to_num(values) if integral and values.dtype.kind == "f" \
                else values
    return records


def local_tables(redacted: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Redacted tables (`t_s`, allow-listed fields, `east_m`/`north_m`/`up_m`) as MAVLink
    tables whose positions are metres from 0° N 0° E and whose times start at the epoch."""
    out = {}
    for name, table in redacted.items():
        if "t_s" not in table:
            continue  # no time: cannot be placed in a .tlog
        local = table.drop(columns=["t_s", "east_m", "north_m", "up_m"], errors="ignore")
        local.insert(0, "time_us", np.round(table["t_s"].to_numpy(float) * 1e6).astype(np.int64))
        if name == "GLOBAL_POSITION_INT":
            local["lat"] = _scaled(table, "north_m", 1e7 / M_PER_DEG_NORTH)
            local["lon"] = _scaled(table, "east_m", 1e7 / M_PER_DEG_EAST)
            local["alt"] = local["relative_alt"] = _scaled(table, "up_m", 1000)
        out[name] = local
    return out


def _scaled(table: pd.DataFrame, column: str, scale: float) -> np.ndarray:
    if column not in table:
        return np.zeros(len(table), dtype=np.int32)
    return np.round(np.nan_to_num(table[column].to_numpy(float)) * scale).astype(np.int32)
