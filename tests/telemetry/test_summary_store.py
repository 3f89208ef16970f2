import numpy as np
import pandas as pd
import pytest

from telemetry import decode
from telemetry.geodesy import to_enu
from telemetry.summary import flight_summary
from tests.telemetry.streams import SPECS, frame

HEARTBEAT = next(s for s in SPECS.values() if s.name == "HEARTBEAT")
METRES_PER_DEG_LON_AT_50 = 71_695.8  # WGS84 at 50° N (hand computed)


def straight_east(seconds: int = 11) -> dict[str, pd.DataFrame]:
    """A flight 100 m/s east at 50° N, 30 m up, 1 Hz; battery 90 → 80 %."""
    t = np.arange(seconds)
    lon = 30.0 + t * 100 / METRES_PER_DEG_LON_AT_50
    return {
        "GLOBAL_POSITION_INT": pd.DataFrame({
            "time_boot_ms": (t * 1000).astype(np.uint32),
            "lat": np.full(seconds, 500_000_000, dtype=np.int32),
            "lon": np.round(lon * 1e7).astype(np.int32),
            "relative_alt": np.full(seconds, 30_000, dtype=np.int32)}),
        "VFR_HUD": pd.DataFrame({"time_boot_ms": (t * 1000).astype(np.uint32),
                                 "groundspeed": np.full(seconds, 100.0, dtype=np.float32)}),
        "SYS_STATUS": pd.DataFrame({"time_boot_ms": (t * 1000).astype(np.uint32),
                                    "battery_remaining": np.linspace(90, 80, seconds)
                                    .astype(np.int8)}),
        "HEARTBEAT": pd.DataFrame({"time_boot_ms": np.array([0, 1000, 2000, 7000, 8000],
                                                            dtype=np.uint32)}),
        "GPS_RAW_INT": pd.DataFrame({"fix_type": np.array([3, 3, 3, 2], dtype=np.uint8),
                                     "satellites_visible": np.array([12, 11, 9, 7],
                                                                    dtype=np.uint8)}),
    }


def test_summary_of_a_straight_flight_east() -> None:
    summary = flight_summary(straight_east())
    assert summary.duration_s == 10.0
    assert summary.distance_flown_m == pytest.approx(1_000, rel=2e-3)
    assert summary.max_altitude_m == 30.0
    assert summary.max_ground_speed_mps == 100.0
    assert summary.battery_used_pct == 10.0
    assert summary.link_loss_gaps == [(2.0, 5.0)]
    assert summary.gps_fix_share == {2: 0.25, 3: 0.75}
    assert summary.min_satellites == 7
    track = summary.track
    assert track["east_m"].iloc[-1] == pytest.approx(1_000, rel=2e-3)
    assert track["north_m"].abs().max() < 1.0
    assert track["t_s"].tolist() == list(map(float, range(11)))


def test_summary_of_nothing_is_empty_not_an_error() -> None:
    summary = flight_summary({})
    assert (summary.duration_s, summary.distance_flown_m, summary.link_loss_gaps) == (
        None, None, [])
    assert summary.track.empty


def test_enu_of_a_point_north_is_north() -> None:
    east, north, up = to_enu(np.array([50.001]), np.array([30.0]), np.array([0.0]),
                             origin=(50.0, 30.0, 0.0))
    assert north[0] == pytest.approx(111.2, abs=0.2)  # a thousandth of a degree of latitude
    assert abs(east[0]) < 1e-6 and abs(up[0]) < 0.01


def test_sequence_gaps_are_link_loss_with_wrap_around() -> None:
    payload = bytes(HEARTBEAT.wire_length)
    seqs = [250, 251, 253, 255, 2, 3]  # lost: 252, 254, 0, 1
    data = b"".join(frame(HEARTBEAT, payload, seq=s) for s in seqs)
    data += frame(HEARTBEAT, payload, seq=7, sysid=2)  # another sender: no gap of its own
    assert decode(data).stats.sequence_gaps == 4
