"""The simulator's sensor model: Pd against range, noise and false alarms as parameterised."""

import numpy as np
import pandas as pd
import pytest

from simulators.scenario import load_scenario
from simulators.sensor import (
    SensorModel,
    raid_tracks,
    sensor_from_parameters,
    simulate_detections,
)
from simulators.threats import ScenarioError


def hover(range_m: float, seconds: int = 4000) -> pd.DataFrame:
    """One target holding still `range_m` east of the sensor, on the sensor's level."""
    return pd.DataFrame({"target": 0, "t_s": np.arange(seconds, dtype=float),
                         "east_m": range_m, "north_m": 0.0, "up_m": 0.0})


def test_pd_falls_with_range_as_parameterised() -> None:
    model = SensorModel(pd_max=0.9, range_50_m=2000, steepness=4, max_range_m=4000)
    assert model.pd(np.array([0, 2000, 4000, 4001])) == pytest.approx([0.9, 0.45,
                                                                       0.9 / 17, 0.0])


def test_detections_follow_the_model() -> None:
    model = SensorModel(pd_max=0.9, range_50_m=2000, position_sigma_m=4, sigma_per_km_m=3,
                        false_alarms_per_h=0, classification_accuracy=0.8)
    seen = simulate_detections(hover(2000), model, seed=5)
    # ~4,000 scans at Pd 0.45: the share seen lies within five standard deviations
    assert len(seen) / 3999 == pytest.approx(0.45, abs=5 * np.sqrt(0.45 * 0.55 / 3999))
    # noise per axis: 4 m + 3 m/km × 2 km
    assert seen["north_m"].std() == pytest.approx(10.0, rel=0.1)
    assert (seen["classification"] == "uav").mean() == pytest.approx(0.8, abs=0.05)


def test_false_alarms_arrive_at_their_rate_within_range() -> None:
    model = SensorModel(pd_max=1e-9, false_alarms_per_h=36, max_range_m=3000)
    clutter = simulate_detections(hover(1000, seconds=36_001), model, seed=2)
    assert len(clutter) == pytest.approx(360, abs=5 * np.sqrt(360))  # Poisson, 10 h at 36/h
    assert np.hypot(clutter["east_m"], clutter["north_m"]).max() <= 3000
    assert set(clutter["object_id"]) == {"clutter"}


def test_a_scenario_raid_flies_at_the_sensor() -> None:
    scenario = load_scenario("recon_probe")
    tracks = raid_tracks(scenario, SensorModel(altitude_m=120), runs=2)
    assert tracks["target"].nunique() == 2 * scenario.raid_size
    first = tracks[tracks["target"] == 0]
    assert np.hypot(first["east_m"].iloc[0], first["north_m"].iloc[0]) == pytest.approx(
        scenario.start_range_m)
    assert set(tracks["up_m"]) == {120.0}


def test_version_parameters_set_the_model_and_bad_ones_are_named() -> None:
    model = sensor_from_parameters({"pd_max": 0.8, "range_50_m": 2500, "base": "radar"})
    assert (model.pd_max, model.range_50_m, model.max_range_m) == (0.8, 2500.0, 5000.0)
    for bad, field in (({"pd_max": 1.5}, "pd_max"), ({"range_50_m": 0}, "range_50_m"),
                       ({"false_alarms_per_h": "many"}, "false_alarms_per_h"),
                       ({"steepness": float("nan")}, "steepness")):
        with pytest.raises(ScenarioError, match=field):
            sensor_from_parameters(bad)
