"""A telemetry session as the series its page plots, thinned on the server to at most
MAX_POINTS a series (a long session never reaches the browser whole).

Everyone gets seconds from the session's start. Reviewers and admins read the raw tables
(their track: metres from the first fix); everyone else reads what the API releases to them
(hub.flows.live.redacted_messages: allow-listed fields, metres from the trial's secret origin).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from telemetry.geodesy import to_enu
from telemetry.store import SessionStore

MAX_POINTS = 2_000
SEQUENCE_COLUMNS = ["time_us", "sysid", "compid", "packet_seq"]
Release = Callable[[str, pd.DataFrame], pd.DataFrame | None]  # None: not released to this user


@dataclass(frozen=True)
class Series:
    label: str  # the legend entry
    t_s: list[float]
    values: list[float]


@dataclass(frozen=True)
class Panel:
    title: str  # the y axis title, with its unit
    series: list[Series]


@dataclass
class SessionSeries:
    panels: list[Panel] = field(default_factory=list)
    track: tuple[list[float], list[float], list[float]] | None = None  # t_s, east_m, north_m
    duration_s: float = 0.0


# (panel title, [(legend entry, message, column, scale, unknown)]): `unknown` is the value the
# autopilot sends when it does not know (dropped); scale turns the field into the title's unit
PANELS: list[tuple[str, list[tuple[str, str, str, float, float | None]]]] = [
    ("altitude above home (m)", [("altitude", "GLOBAL_POSITION_INT", "up_m", 1, None)]),
    ("speed (m/s)", [("ground speed", "VFR_HUD", "groundspeed", 1, None),
                     ("air speed", "VFR_HUD", "airspeed", 1, None)]),
    ("attitude (°)", [("roll", "ATTITUDE", "roll", 180 / np.pi, None),
                      ("pitch", "ATTITUDE", "pitch", 180 / np.pi, None),
                      ("yaw", "ATTITUDE", "yaw", 180 / np.pi, None)]),
    ("battery voltage (V)", [("voltage (SYS_STATUS)", "SYS_STATUS", "voltage_battery", 1e-3,
                              65535),
                             ("cell 0 (BATTERY_STATUS)", "BATTERY_STATUS", "voltages_0", 1e-3,
                              65535)]),
    ("battery current (A)", [("current (SYS_STATUS)", "SYS_STATUS", "current_battery", 1e-2, -1),
                             ("current (BATTERY_STATUS)", "BATTERY_STATUS", "current_battery",
                              1e-2, -1)]),
    ("GPS fix type and satellites", [("fix type (0–6)", "GPS_RAW_INT", "fix_type", 1, None),
                                     ("satellites", "GPS_RAW_INT", "satellites_visible", 1,
                                      255)]),
    ("radio signal (RSSI, 0–254)", [("local RSSI", "RADIO_STATUS", "rssi", 1, 255),
                                    ("remote RSSI", "RADIO_STATUS", "remrssi", 1, 255)]),
]

PLOTTED = {message for _, lines in PANELS for _, message, *_ in lines} | {"GLOBAL_POSITION_INT"}


def session_series(store: SessionStore, counts: dict[str, int], release: Release, *,
                   headers: bool) -> SessionSeries:
    """`headers`: the session's tables carry MAVLink frame headers (a .tlog or a live link)."""
    start = zero_us(store, counts)
    read = {name: store.read(name, every=_every(counts[name]))
            for name in sorted(PLOTTED & set(counts))}
    boot = min((int(t["time_boot_ms"].min()) for t in read.values()
                if "time_boot_ms" in t and len(t)), default=None)
    tables = {}
    for name, raw_table in read.items():
        timed = _timed(raw_table, start, boot)
        table = release(name, timed) if timed is not None else None
        if table is not None and len(table):  # redaction keeps rows, not our `t`
            tables[name] = table if "t" in table else table.assign(t=timed["t"].to_numpy())
    result = SessionSeries(duration_s=max((float(t["t"].max()) for t in tables.values()),
                                          default=0.0))
    for title, lines in PANELS:
        series = [found for label, message, column, scale, unknown in lines
                  if message in tables and column in tables[message]
                  and (found := _series(tables[message], label, column, scale, unknown)).t_s]
        if series:
            result.panels.append(Panel(title, series))
    gaps = sequence_gaps(store, counts, start) if headers and start is not None else None
    if gaps is not None:
        result.panels.append(Panel("link: frames lost (sequence gaps, per bin)", [gaps]))
    positions = tables.get("GLOBAL_POSITION_INT")
    if positions is not None and {"east_m", "north_m"} <= set(positions):
        result.track = (positions["t"].tolist(), positions["east_m"].round(1).tolist(),
                        positions["north_m"].round(1).tolist())
    return result


def zero_us(store: SessionStore, counts: dict[str, int]) -> int | None:
    """The page's time zero: the first log time of the messages it plots. Not the store's
    start, which an onboard log's own topics can put at 0 while its MAVLink tables run on
    another clock (a simulator's PX4 logs the epoch). None without log time (live)."""
    if store.start_us() is None:
        return None
    firsts = [int(table["time_us"].min()) for name in sorted(PLOTTED & set(counts))
              if len(table := store.read(name, columns=["time_us"]))]
    return min(firsts, default=store.start_us())


def raw_release(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The task force's view: every field; positions also as metres from the first fix."""
    if name != "GLOBAL_POSITION_INT":
        return table
    table = table.assign(up_m=table["relative_alt"] / 1e3)
    fixed = table[(table["lat"] != 0) | (table["lon"] != 0)]
    if fixed.empty:
        return table
    east, north, _ = to_enu(fixed["lat"] / 1e7, fixed["lon"] / 1e7, np.zeros(len(fixed)),
                            origin=(fixed["lat"].iloc[0] / 1e7, fixed["lon"].iloc[0] / 1e7, 0.0))
    return fixed.assign(east_m=east, north_m=north)


def sequence_gaps(store: SessionStore, counts: dict[str, int],
                  start_us: int) -> Series | None:
    """Frames a MAVLink link lost, from each sender's packet_seq across every message type,
    summed per time bin. Like the decoder: a sender that never steps its sequence loses
    nothing, a repeat is no loss. Reads four columns of every row: thinned rows would invent
    gaps."""
    parts = [part for name in counts if len(part := store.read(name, columns=SEQUENCE_COLUMNS))]
    if not parts:
        return None
    frames = pd.concat(parts, ignore_index=True).astype(np.int64)
    frames = frames.sort_values("time_us", kind="stable")
    frames["sender"] = frames["sysid"] * 256 + frames["compid"]
    step = frames.groupby("sender")["packet_seq"].diff().fillna(1).astype(np.int64) % 256
    stepping = frames.groupby("sender")["packet_seq"].transform("nunique") > 1
    lost = np.where(stepping & (step > 0), step - 1, 0)
    t = (frames["time_us"].to_numpy(np.int64) - start_us) / 1e6
    width = max(1.0, float(t.max()) / MAX_POINTS) if len(t) else 1.0
    bins = np.floor(t / width).astype(int)
    per_bin = np.bincount(bins, weights=lost, minlength=int(bins.max()) + 1)
    return Series(f"frames lost per {width:g} s", (np.arange(len(per_bin)) * width).tolist(),
                  per_bin.tolist())


def _every(rows: int) -> int:
    return max(1, -(-rows // MAX_POINTS))


def _timed(table: pd.DataFrame, start_us: int | None,
           boot_ms: int | None) -> pd.DataFrame | None:
    """Seconds from the page's time zero as `t`, the one time every viewer's series use. A
    live stream has no log time: its messages with the autopilot's boot clock go on from the
    first of them, the others (None) stay off the time axis (GPS time is a clock: never)."""
    if "time_us" in table and start_us is not None:
        return table.assign(t=(table["time_us"].to_numpy(np.int64) - start_us) / 1e6)
    if "time_boot_ms" in table and boot_ms is not None:
        return table.assign(t=(table["time_boot_ms"].to_numpy(np.int64) - boot_ms) / 1e3)
    return None


def _series(table: pd.DataFrame, label: str, column: str, scale: float,
            unknown: float | None) -> Series:
    known = table[table[column] != unknown] if unknown is not None else table
    return Series(label, known["t"].round(3).tolist(),
                  (known[column].astype(float) * scale).round(3).tolist())
