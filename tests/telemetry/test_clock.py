import numpy as np
import pandas as pd
import pytest

from telemetry.clock import clock_offsets_ms, utc_positions, utc_seconds
from telemetry.decode import decode
from tests.telemetry.flights import Flight

UNIX = 1_767_225_600.0


def line(t: float) -> tuple[float, float, float]:
    return 50.0 + t * 1e-5, 4.0, 120.0 + t


def test_system_time_puts_the_boot_clock_on_utc() -> None:
    frames = decode(Flight(line, UNIX, boot_s=600).stream(10)).frames
    assert clock_offsets_ms(frames) == {1: pytest.approx((UNIX - 600) * 1000)}
    track = utc_positions(frames)
    assert track["t_s"].iloc[0] == pytest.approx(UNIX)
    assert track["t_s"].iloc[-1] == pytest.approx(UNIX + 10)
    assert track["alt_msl_m"].iloc[-1] == pytest.approx(130.0)
    assert track["lat_deg"].iloc[4] == pytest.approx(50.00002)


def test_a_tlog_without_system_time_anchors_the_boot_clock_on_its_stamps() -> None:
    flight = Flight(line, UNIX, system_time=False)
    frames = decode(flight.tlog(10, latency_s=0.05), tlog=True).frames
    track = utc_positions(frames)
    # the stamps are 50 ms late; the spacing still comes from the vehicle's own clock
    assert track["t_s"].iloc[0] == pytest.approx(UNIX + 0.05, abs=1e-3)
    assert np.diff(track["t_s"]) == pytest.approx(np.full(20, 0.5))


def test_a_live_stream_without_system_time_has_no_utc() -> None:
    frames = decode(Flight(line, UNIX, system_time=False).stream(5)).frames
    assert utc_positions(frames).empty


def test_gps_time_is_unix_when_large_and_boot_time_when_small() -> None:
    frame = pd.DataFrame({"sysid": [1, 1], "time_usec": [UNIX * 1e6, 5e6]})
    assert utc_seconds(frame, {1: 1000.0}) == pytest.approx([UNIX, 6.0])
