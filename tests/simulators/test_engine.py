import dataclasses

import numpy as np
import pandas as pd
import pytest

from sandbox.scoring import score, tally_by_threat_kind
from simulators.engine import simulate
from simulators.reference import simulate_reference
from simulators.scenario import Scenario, list_scenarios, load_scenario
from simulators.threats import BASELINES, THREATS, Defender, ScenarioError, Threat

SLOW_DRONE = Threat("test_drone", speed_mps=50.0, cost_cents=3_500_000)


def scenario(**overrides) -> Scenario:
    values = {"name": "test", "threat": SLOW_DRONE, "raid_size": 1, "spacing_s": 0.0,
              "start_range_m": 10_000.0}
    return Scenario(**{**values, **overrides})


def perfect(**overrides) -> Defender:
    values = {"name": "perfect", "speed_mps": 150.0, "endurance_s": 1_000.0,
              "lethal_radius_m": 5.0, "p_kill": 1.0, "magazine": 1_000, "p_detect": 1.0,
              "detection_range_m": 20_000.0, "track_latency_s": 0.0, "max_shots": 1,
              "unit_cost_cents": 400_000, "acceleration_mps2": 1e6,
              "seeker_lock_range_m": 50_000.0}
    return Defender(**{**values, **overrides})


def test_head_on_time_to_intercept_is_distance_over_closing_speed() -> None:
    result = simulate(scenario(), perfect(), runs=3, seed=1)
    # detected at 0 s at 10 km; closing at 150 + 50 m/s
    assert result["outcome"].tolist() == ["intercept"] * 3
    assert result["time_to_intercept_s"].tolist() == pytest.approx([10_000 / 200] * 3)


def test_headwind_slows_the_interceptor() -> None:
    headwind = simulate(scenario(wind_mps=50.0), perfect(), runs=1, seed=1)
    assert headwind["time_to_intercept_s"][0] == pytest.approx(10_000 / 150)


def test_acceleration_to_top_speed_takes_its_time() -> None:
    # 10 m/s2 to 150 m/s: 15 s and 1,125 m, then the remaining gap closes at 200 m/s
    gap_after_boost = 10_000 - 1_125 - 50 * 15
    expected = 15 + gap_after_boost / 200
    result = simulate(scenario(), perfect(acceleration_mps2=10.0), runs=1, seed=1)
    assert result["time_to_intercept_s"][0] == pytest.approx(expected, abs=0.5)  # a 0.5 s step


def crossing_time_s(offset_m: float, speed: float, threat_speed: float, range_m: float) -> float:
    """A collision course from a launcher `offset_m` east of the point, at constant speed:
    |(-offset, range - threat_speed t)| = speed t, solved for t."""
    a = speed ** 2 - threat_speed ** 2
    b = 2 * range_m * threat_speed
    c = -(offset_m ** 2 + range_m ** 2)
    return (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)


def test_proportional_navigation_flies_the_collision_course_pursuit_lags() -> None:
    crossing = scenario(launcher_offset_m=4_000.0, time_step_s=0.1)
    pn = simulate(crossing, perfect(acceleration_mps2=100.0), runs=1, seed=1)
    pursuit = simulate(crossing, perfect(acceleration_mps2=100.0, guidance="pure_pursuit"),
                       runs=1, seed=1)
    collision = crossing_time_s(4_000.0, 150.0, 50.0, 10_000.0)
    assert pn["time_to_intercept_s"][0] == pytest.approx(collision, rel=0.02)
    assert pursuit["time_to_intercept_s"][0] > pn["time_to_intercept_s"][0] + 1.0


def test_without_a_seeker_lock_the_stale_track_leads_it_astray() -> None:
    # 10 s of track latency: the radar track trails the threat by 500 m
    crossing = scenario(launcher_offset_m=4_000.0)
    stale = {"track_latency_s": 10.0, "guidance": "pure_pursuit", "endurance_s": 150.0}
    never_locks = simulate(crossing, perfect(seeker_lock_range_m=1.0, **stale), runs=1, seed=1)
    locks = simulate(crossing, perfect(seeker_lock_range_m=2_000.0, **stale), runs=1, seed=1)
    assert never_locks["outcome"].tolist() == ["miss"]
    assert locks["outcome"].tolist() == ["intercept"]
    # jamming at 0.9 cuts the 2 km lock range to 200 m: the interceptors whose link survives
    # still never come close enough to lock, and miss
    jammed = simulate(dataclasses.replace(crossing, jamming=0.9),
                      perfect(seeker_lock_range_m=2_000.0, **stale), runs=200, seed=1)
    assert set(jammed["outcome"]) == {"abort", "miss"}


def test_perfect_interceptor_scores_its_kill_probability() -> None:
    runs = 20_000
    result = simulate(scenario(), perfect(p_kill=0.7), runs=runs, seed=7)
    pk = (result["outcome"] == "intercept").mean()
    tolerance = 4 * np.sqrt(0.7 * 0.3 / runs)  # four binomial standard deviations
    assert abs(pk - 0.7) < tolerance


def test_magazine_exhaustion_produces_leakers() -> None:
    result = simulate(scenario(raid_size=5, spacing_s=1.0), perfect(magazine=3), runs=10, seed=2)
    by_threat = result.groupby("threat_index")["outcome"].agg(lambda s: set(s))
    assert [by_threat[i] for i in range(5)] == [{"intercept"}] * 3 + [{"miss"}] * 2
    assert result.groupby("run")["interceptors_used"].sum().tolist() == [3] * 10


def test_late_detection_lets_the_threat_through() -> None:
    result = simulate(scenario(), perfect(p_detect=1.0, track_latency_s=500.0), runs=5, seed=1)
    assert set(result["outcome"]) == {"miss"}
    assert result["interceptors_used"].sum() == 0


def test_jamming_lowers_pk_and_total_jamming_aborts() -> None:
    clear = simulate(scenario(), perfect(p_kill=0.8), runs=4_000, seed=3)
    jammed = simulate(scenario(jamming=0.5), perfect(p_kill=0.8), runs=4_000, seed=3)
    jammed_pk, clear_pk = ((r["outcome"] == "intercept").mean() for r in (jammed, clear))
    assert jammed_pk < clear_pk - 0.3
    total = simulate(scenario(jamming=1.0), perfect(), runs=10, seed=3)
    assert set(total["outcome"]) == {"abort"}


def test_same_seed_same_result_other_seed_other_result() -> None:
    sc = load_scenario("shahed_raid")
    first = simulate(sc, BASELINES["interceptor_drone"], runs=300, seed=11)
    pd.testing.assert_frame_equal(first, simulate(sc, BASELINES["interceptor_drone"], runs=300,
                                                  seed=11))
    assert not first.equals(simulate(sc, BASELINES["interceptor_drone"], runs=300, seed=12))


@pytest.mark.parametrize("name", list_scenarios())
def test_vectorised_engine_equals_the_plain_loop_on_the_same_draws(name: str) -> None:
    sc = dataclasses.replace(load_scenario(name), launcher_offset_m=1_500.0,
                             bearing_spread_deg=60.0)
    for defender in BASELINES.values():
        salvo = dataclasses.replace(defender, salvo=2, max_shots=3, magazine=15)
        for d in (defender, salvo):
            expected = simulate_reference(sc, d, runs=25, seed=5)
            pd.testing.assert_frame_equal(simulate(sc, d, runs=25, seed=5), expected,
                                          check_dtype=False)
            pd.testing.assert_frame_equal(simulate(sc, d, runs=25, seed=5, share_flights=False),
                                          expected, check_dtype=False)


def test_simulated_cost_per_intercept_follows_the_scoring_formula() -> None:
    result = simulate(load_scenario("shahed_raid"), BASELINES["patriot_pac3"], runs=200, seed=1)
    [tally] = tally_by_threat_kind(result).values()
    scored = score(tally, unit_cost_cents=300_000_000)
    intercepts = int((result["outcome"] == "intercept").sum())
    spent = int(result["interceptors_used"].sum()) * 300_000_000
    assert scored.intercepts == intercepts
    assert float(scored.cost_per_intercept_eur) == pytest.approx(spent / intercepts / 100, abs=0.01)
    assert scored.cost_exchange_ratio > 85  # the Patriot-vs-Shahed economics, at least


def test_interceptor_drones_down_over_70_percent_of_shaheds() -> None:
    result = simulate(load_scenario("shahed_raid"), BASELINES["interceptor_drone"], runs=2_000,
                      seed=1)
    assert (result["outcome"] == "intercept").mean() > 0.70
    assert result["interceptors_used"].dtype == np.int64
    assert result["threat_cost_cents"].unique().tolist() == [THREATS["shahed_136"].cost_cents]


def test_large_runs_are_processed_in_chunks_with_progress() -> None:
    seen = []
    result = simulate(load_scenario("fpv_swarm"), BASELINES["gun_35mm"], runs=30_000, seed=1,
                      progress=lambda done, total: seen.append((done, total)))
    assert len(result) == 30_000 * 20
    assert len(seen) > 1 and seen[-1] == (30_000, 30_000)


@pytest.mark.parametrize("field, value", [("speed_mps", -1.0), ("p_kill", 1.5),
                                          ("guidance", "telepathy"), ("magazine", 0)])
def test_impossible_defender_parameters_are_refused(field: str, value: object) -> None:
    with pytest.raises(ScenarioError, match=field):
        perfect(**{field: value})


def test_runs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="runs"):
        simulate(scenario(), perfect(), runs=0, seed=1)
