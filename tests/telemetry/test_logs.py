"""Onboard logs: DataFlash against pymavlink's DFReader, ULog against pyulog, value for value;
the MAVLink tables derived from them; bad and truncated files refused."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymavlink.DFReader import DFReader_binary
from pymavlink.quaternion import Quaternion
from pyulog import ULog

from telemetry.dataflash import read_dataflash
from telemetry.decode import decode
from telemetry.derive import LogFileError
from telemetry.logfiles import detect_format, onboard_tables
from telemetry.segment import tlog_bytes
from telemetry.summary import flight_summary
from telemetry.ulog import read_ulog
from tests.telemetry.logs import HEIGHT_M, RADIUS_M, SITE_LAT, SITE_LON, SPEED_MPS, circle_flight
from tests.telemetry.streams import every_message_stream, pymavlink_decode

DATA = Path(__file__).parent.parent / "data"
ULOGS = [DATA / "sample_log_small.ulg", DATA / "sample_px4_events.ulg"]


def _dfreader(path: Path) -> list:
    messages = []
    with DFReader_binary(str(path)) as reader:
        while (message := reader.recv_msg()) is not None:
            messages.append(message)
    return messages


def _same(ours: object, theirs: object) -> bool:
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return ours == theirs


@pytest.mark.parametrize("garbage", [False, True])
def test_dataflash_equals_dfreader_message_for_message(tmp_path, garbage) -> None:
    path = tmp_path / "flight.bin"
    path.write_bytes(circle_flight(garbage=garbage))
    tables = read_dataflash(np.fromfile(path, dtype=np.uint8))
    reference = _dfreader(path)
    assert sum(len(t) for t in tables.values()) == len(reference) > 2000
    rows = {name: table.to_dict("records") for name, table in tables.items()}
    seen: dict[str, int] = {}
    for message in reference:
        name = message.get_type()
        ours = rows[name][seen.setdefault(name, 0)]
        seen[name] += 1
        for column in message.get_fieldnames():
            value = getattr(message, column)
            if message.fmt.format[message.fmt.colhash[column]] == "a":
                assert [ours[f"{column}_{i}"] for i in range(32)] == list(value)
            else:
                assert _same(ours[column], value), (name, column, ours[column], value)
    assert {"TSTA", "TSTB", "GPS", "POS", "ATT", "BAT"} <= set(seen)


def test_a_real_arduplane_log_equals_dfreader_and_its_cut_is_refused(tmp_path) -> None:
    data = (DATA / "arduplane_3.8.bin").read_bytes()
    with pytest.raises(LogFileError, match="inside a AHR2 message at byte 65512"):
        read_dataflash(data)
    path = tmp_path / "whole.bin"
    path.write_bytes(data[:65512])  # up to its last whole message
    tables = read_dataflash(np.fromfile(path, dtype=np.uint8))
    reference = _dfreader(path)
    assert sum(len(t) for t in tables.values()) == len(reference) == 1731
    rows = {name: table.to_dict("records") for name, table in tables.items()}
    seen: dict[str, int] = {}
    for message in reference:
        name = message.get_type()
        ours = rows[name][seen.setdefault(name, 0)]
        seen[name] += 1
        assert all(_same(ours[c], getattr(message, c)) for c in message.get_fieldnames()), name
    derived = onboard_tables(path, "dataflash")
    assert derived["GLOBAL_POSITION_INT"]["lat"].tolist() == np.round(
        tables["POS"]["Lat"] * 1e7).astype(int).tolist()
    assert len(derived["ATTITUDE"]) == 24 and len(derived["GPS_RAW_INT"]) == 5


def test_dataflash_log_cut_short_is_refused() -> None:
    data = circle_flight(seconds=5)
    with pytest.raises(LogFileError, match="truncated"):
        read_dataflash(data[:-7])
    with pytest.raises(LogFileError, match="no DataFlash messages"):
        read_dataflash(b"\xa3\x95\x07" + bytes(300))


def test_dataflash_derives_mavlink_tables_in_mavlink_units(tmp_path) -> None:
    path = tmp_path / "flight.bin"
    path.write_bytes(circle_flight())
    tables = onboard_tables(path, "dataflash")
    assert {"DF_GPS", "DF_POS", "DF_ATT", "DF_BAT", "DF_TSTA"} <= set(tables)
    position, native = tables["GLOBAL_POSITION_INT"], tables["DF_POS"]
    assert position["lat"].tolist() == np.round(native["Lat"] * 1e7).astype(int).tolist()
    assert set(position["relative_alt"]) == {HEIGHT_M * 1000}
    assert (position["alt"] - position["relative_alt"]).iloc[0] == 150_000
    speeds = np.hypot(position["vx"], position["vy"])  # each component rounded to cm/s
    assert speeds.tolist() == pytest.approx([SPEED_MPS * 100] * 600, abs=1.5)
    gps = tables["GPS_RAW_INT"]
    assert (gps["fix_type"].iloc[0], gps["eph"].iloc[0], gps["vel"].iloc[0]) == (3, 80, 1000)
    attitude = tables["ATTITUDE"]
    assert attitude["pitch"].iloc[0] == pytest.approx(math.radians(-1.2))
    assert attitude["yawspeed"].iloc[0] == pytest.approx(SPEED_MPS / RADIUS_M)
    assert tables["SYS_STATUS"]["voltage_battery"].iloc[0] == 16_800
    summary = flight_summary(tables)
    assert summary.max_altitude_m == HEIGHT_M
    assert summary.distance_flown_m == pytest.approx(SPEED_MPS * 59.9, rel=0.01)
    assert summary.battery_used_mah == pytest.approx(0.35 * 590, abs=1)
    assert summary.max_ground_speed_mps == SPEED_MPS
    track = flight_summary(tables, origin=(SITE_LAT, SITE_LON, 0.0)).track
    assert np.hypot(track["east_m"], track["north_m"]).tolist() == pytest.approx(
        [RADIUS_M] * 600, abs=0.5)


@pytest.mark.parametrize("path", ULOGS, ids=lambda p: p.name)
def test_ulog_equals_pyulog_value_for_value(path) -> None:
    tables = read_ulog(path)
    reference = ULog(str(path))
    for data in reference.data_list:
        ours = tables[data.name]
        ours = ours[ours["multi_id"] == data.multi_id].sort_values("timestamp", kind="stable")
        for column, values in data.data.items():
            assert np.array_equal(ours[column].to_numpy(), values, equal_nan=True), column
    assert len(tables) == len({d.name for d in reference.data_list})


@pytest.mark.parametrize("path", ULOGS, ids=lambda p: p.name)
def test_ulog_derives_mavlink_tables(path) -> None:
    native = read_ulog(path)
    tables = onboard_tables(path, "ulog")
    attitude, quaternions = tables["ATTITUDE"], native["vehicle_attitude"]
    for row in (0, len(attitude) // 2, len(attitude) - 1):
        q = [quaternions[f"q[{i}]"].iloc[row] for i in range(4)]
        euler = Quaternion(q).euler
        assert [attitude[a].iloc[row] for a in ("roll", "pitch", "yaw")] == pytest.approx(
            euler, abs=1e-5)
    gps = native.get("vehicle_gps_position")
    raw = tables["GPS_RAW_INT"]
    lat = gps["lat"] if "lat" in gps else np.round(gps["latitude_deg"] * 1e7)
    assert raw["lat"].tolist() == lat.astype(int).tolist()
    assert raw["satellites_visible"].tolist() == gps["satellites_used"].tolist()
    assert {"GLOBAL_POSITION_INT", "SYS_STATUS", "BATTERY_STATUS", "VFR_HUD"} <= set(tables)
    battery = native["battery_status"]
    first = battery[battery["multi_id"] == 0]["voltage_v"].iloc[0]
    assert tables["SYS_STATUS"]["voltage_battery"].iloc[0] == round(first * 1000)


def test_px4_global_position_gives_height_above_home() -> None:
    tables = onboard_tables(ULOGS[1], "ulog")
    home = tables["ULG_home_position"]["alt"].iloc[0]
    position = tables["GLOBAL_POSITION_INT"]
    expected = np.round((tables["ULG_vehicle_global_position"]["alt"] - home) * 1000)
    assert position["relative_alt"].tolist() == expected.astype(int).tolist()
    assert flight_summary(tables).max_altitude_m == pytest.approx(expected.max() / 1000)
    assert position["hdg"].max() < 36000


def test_bad_and_truncated_ulogs_are_refused(tmp_path) -> None:
    data = ULOGS[0].read_bytes()
    cut, header_only = tmp_path / "cut.ulg", tmp_path / "header.ulg"
    cut.write_bytes(data[:len(data) // 2 + 3])
    header_only.write_bytes(data[:12])
    with pytest.raises(LogFileError, match="truncated"):
        read_ulog(cut)
    with pytest.raises(LogFileError, match="not a readable ULog"):
        read_ulog(header_only)


def test_format_comes_from_the_bytes() -> None:
    assert detect_format(ULOGS[0].read_bytes()[:16]) == "ulog"
    assert detect_format(circle_flight(seconds=1)[:16]) == "dataflash"
    assert detect_format(b"\x00" * 16) == "tlog"
    assert isinstance(read_ulog(ULOGS[1])["vehicle_attitude"], pd.DataFrame)


def test_a_tlog_segment_round_trips_every_message_type() -> None:
    frames = decode(every_message_stream(7, repeat=2)).frames
    for offset, table in enumerate(frames.values()):  # interleaved stamps across types
        table.insert(0, "time_us", 1_700_000_000_000_000 + np.arange(len(table)) * 1000 + offset)
    data = tlog_bytes(frames)
    back = decode(np.frombuffer(data, np.uint8), tlog=True)
    assert back.stats.crc_failures == 0 and set(back.frames) == set(frames)
    for name, table in frames.items():
        text = [c for c in table if not pd.api.types.is_numeric_dtype(table[c])]  # not ASCII
        pd.testing.assert_frame_equal(back.frames[name].drop(columns=text),
                                      table.drop(columns=text), obj=name)
    stamps = [int.from_bytes(data[i:i + 8], "big") for i in _record_starts(data)]
    assert stamps == sorted(stamps) and len(stamps) == sum(len(t) for t in frames.values())
    reference = pymavlink_decode(b"".join(data[i + 8:i + 20 + data[i + 9]]
                                          for i in _record_starts(data)))
    assert len(reference) == len(stamps)


def _record_starts(data: bytes) -> list[int]:
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        position += 8 + 12 + data[position + 9]
    return starts
