"""Reports that are not points (rays, sectors, vertical lines, polar positions, none): their
gap to a truth position, and the detection score built on it, worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from sandbox.detection import score_detections
from sandbox.detection_shapes import gaps, shapes
from tests.sandbox.test_detection import T0, approach


def _reports(*rows: dict) -> pd.DataFrame:
    base = {"t_s": T0, "east_m": np.nan, "north_m": np.nan, "up_m": np.nan,
            "classification": ""}
    return pd.DataFrame([{**base, **row} for row in rows])


def _gaps(truth: tuple[float, float, float], *rows: dict) -> list[float]:
    reports = shapes(_reports(*rows))
    return list(gaps(np.tile(truth, (len(rows), 1)), reports))


def test_a_ray_is_the_half_line_from_the_sensor() -> None:
    east = {"shape": "ray", "bearing_deg": 90.0, "elevation_deg": 0.0}
    assert _gaps((1000.0, 30.0, 0.0), east) == [pytest.approx(30.0)]
    assert _gaps((-100.0, 0.0, 0.0), east) == [pytest.approx(100.0)]  # behind: the sensor
    climbing = {"shape": "ray", "bearing_deg": 0.0, "elevation_deg": 45.0}
    assert _gaps((0.0, 100.0, 100.0), climbing) == [pytest.approx(0.0, abs=1e-9)]
    assert _gaps((0.0, 100.0, 120.0), climbing) == [pytest.approx(20 / math.sqrt(2))]


def test_a_sector_holds_every_range_and_height_between_its_bearings() -> None:
    north_quadrant = {"shape": "sector", "bearing_deg": 315.0, "sector_deg": 90.0}
    assert _gaps((100.0, 500.0, 300.0), north_quadrant) == [0.0]
    # 50° is 5° outside: the distance to the 45° edge, |600 - 500| / sqrt(2)
    assert _gaps((600.0, 500.0, 0.0), north_quadrant) == [pytest.approx(100 / math.sqrt(2))]
    bearing_only = {"shape": "sector", "bearing_deg": 90.0, "sector_deg": 0.0}
    assert _gaps((500.0, -20.0, 999.0), bearing_only) == [pytest.approx(20.0)]
    everywhere = {"shape": "sector", "bearing_deg": 0.0, "sector_deg": 360.0}
    assert _gaps((-3.0, -4.0, 5.0), everywhere) == [0.0]


def test_points_vertical_lines_polar_positions_and_nothing() -> None:
    assert _gaps((13.0, 4.0, 500.0), {"shape": "vertical", "east_m": 10.0, "north_m": 0.0},
                 {"shape": "point", "east_m": 10.0, "north_m": 0.0}) == [
        pytest.approx(5.0), pytest.approx(5.0)]  # a point without height is a vertical line
    polar = {"shape": "polar", "bearing_deg": 90.0, "elevation_deg": 30.0, "distance_m": 200.0,
             "origin_east_m": 10.0, "origin_north_m": 0.0, "origin_up_m": 0.0}
    assert shapes(_reports(polar)).kind.tolist() == ["point"]
    assert _gaps((10 + 200 * math.cos(math.radians(30)), 3.0, 100.0), polar) == [
        pytest.approx(3.0)]
    assert _gaps((0.0, 0.0, 0.0), {"shape": "none"}) == [math.inf]


def _rays_at_the_target() -> list[dict]:
    """One ray a second due east along the ground for k = 41 … 100: the target of `approach`
    lies on every one."""
    return [{"t_s": T0 + k + 0.25, "shape": "ray", "bearing_deg": 90.0, "elevation_deg": 0.0}
            for k in range(41, 101)]


def test_rays_detect_but_give_no_position_error() -> None:
    away = {"t_s": T0 + 50.5, "shape": "ray", "bearing_deg": 270.0, "elevation_deg": 0.0}
    blind = {"t_s": T0 + 51.5, "shape": "none", "classification": "UAV"}
    operator = {"t_s": T0 + 52.5, "shape": "point", "east_m": -900.0, "north_m": 0.0,
                "up_m": 0.0, "classification": "GCS"}
    score = score_detections(approach(), _reports(*_rays_at_the_target(), away, blind,
                                                  operator))
    # 60 of the 81 epochs (k = 20 … 100) seen; the ray pointing west is the one false alarm;
    # the report without location and the ground station's are counted, not scored
    assert (score.epochs, score.detected, score.false_alarms) == (81, 60, 1)
    assert (score.detections, score.associated, score.unlocated, score.ground_station) == (
        63, 60, 1, 1)
    assert score.position_errors_m == [] and score.position_error_p50_m is None
    assert score.first_detection_range_m == pytest.approx(6000 - 50 * 41.25)


def test_ranges_run_from_where_the_sensor_stood() -> None:
    # every report says the sensor stood 1,000 m east: the target (6,000 - 50 k east) is
    # 5,000 - 50 k away from it, so all 101 seconds k = 0 … 100 are epochs
    moved = {"origin_east_m": 1000.0, "origin_north_m": 0.0, "origin_up_m": 0.0}
    rays = [{**ray, **moved} for ray in _rays_at_the_target()]
    score = score_detections(approach(), _reports(*rays))
    assert (score.epochs, score.detected) == (101, 60)
    assert score.first_detection_range_m == pytest.approx(5000 - 50 * 41.25)
    assert score.time_to_first_detection_s == pytest.approx(41.25)
