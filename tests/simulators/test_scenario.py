import pytest

from simulators.geometry import NEVER, approaches, time_within
from simulators.scenario import list_scenarios, load_scenario, parse_scenario
from simulators.threats import BASELINES, ScenarioError, defender_from_parameters


def test_library_has_the_named_scenarios() -> None:
    assert {"shahed_raid", "fpv_swarm", "recon_probe", "cruise_strike"} <= set(list_scenarios())
    raid = load_scenario("shahed_raid")
    assert raid.threat.kind == "shahed_136"
    assert raid.threat.speed_mps == pytest.approx(185 / 3.6)
    assert raid.raid_size == 12


def test_users_load_their_own_file(tmp_path) -> None:
    path = tmp_path / "night_raid.toml"
    path.write_text('threat = "recon_quad"\nraid_size = 3\nspacing_s = 10\nstart_range_m = 4000\n')
    scenario = load_scenario(path)
    assert (scenario.name, scenario.raid_size, scenario.jamming) == ("night_raid", 3, 0.0)


@pytest.mark.parametrize("data, field", [
    ({"threat": "ufo", "raid_size": 1, "spacing_s": 1, "start_range_m": 1}, "threat"),
    ({"threat": "fpv_strike", "spacing_s": 1, "start_range_m": 1}, "raid_size"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": 1, "start_range_m": 1,
      "jamming": 2}, "jamming"),
    ({"threat": "fpv_strike", "raid_size": 0, "spacing_s": 1, "start_range_m": 1}, "raid_size"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": 1, "start_range_m": 1,
      "weather": "fog"}, "weather"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": 1, "start_range_m": 1,
      "time_step_s": 0}, "time_step_s"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": 1, "start_range_m": 1,
      "bearing_spread_deg": 400}, "bearing_spread_deg"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": "soon", "start_range_m": 1},
     "scenario"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": 1, "start_range_m": float("nan")},
     "start_range_m"),
    ({"threat": "fpv_strike", "raid_size": 1, "spacing_s": float("inf"), "start_range_m": 1},
     "spacing_s"),
])
def test_bad_scenarios_name_the_field(data, field) -> None:
    with pytest.raises(ScenarioError, match=field):
        parse_scenario(data)


def test_unknown_scenario_name_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="shahed_raid"):
        load_scenario("no_such_raid")


def test_version_parameters_override_the_baseline() -> None:
    defender = defender_from_parameters({"speed_mps": 95, "p_kill": 0.8, "colour": "green"},
                                        name="Hornet 1.1", unit_cost_cents=450_000,
                                        reusable=False)
    assert (defender.speed_mps, defender.p_kill) == (95, 0.8)
    assert defender.endurance_s == BASELINES["interceptor_drone"].endurance_s
    assert defender.unit_cost_cents == 450_000


@pytest.mark.parametrize("parameters, field", [({"speed_mps": -3}, "speed_mps"),
                                               ({"p_kill": 7}, "p_kill"),
                                               ({"acceleration_mps2": 0},
                                                "acceleration_mps2"),
                                               ({"endurance_s": float("inf")}, "endurance_s"),
                                               ({"track_latency_s": float("nan")},
                                                "track_latency_s"),
                                               ({"salvo": "two"}, "salvo")])
def test_impossible_version_parameters_are_refused(parameters, field) -> None:
    with pytest.raises(ScenarioError, match=field):
        defender_from_parameters(parameters, name="x", unit_cost_cents=1, reusable=False)


def test_a_raid_spreads_over_its_sector_and_arrives_in_turn() -> None:
    raid = parse_scenario({"threat": "shahed_136", "raid_size": 3, "spacing_s": 10,
                           "start_range_m": 10_000, "bearing_spread_deg": 90})
    paths = approaches(raid)
    # bearings -45, 0, +45 degrees: east offsets -, 0, + at 10 km
    assert [round(p.x0) for p in paths] == [-7071, 0, 7071]
    assert [round(p.y0) for p in paths] == [7071, 10_000, 7071]
    speed = 185 / 3.6
    assert [p.arrive_s for p in paths] == pytest.approx([10_000 / speed + 10 * i for i in range(3)])
    assert paths[1].at(paths[1].arrive_s) == pytest.approx((0.0, 0.0), abs=1e-6)


def test_entry_into_a_circle_off_the_path() -> None:
    raid = parse_scenario({"threat": "recon_quad", "raid_size": 1, "spacing_s": 0,
                           "start_range_m": 10_000})
    path = approaches(raid)[0]  # from the north at 17 m/s
    # a circle of 5 km round (3 km, 0): entered where the path is 4 km north of the point
    assert time_within(path, (3_000.0, 0.0), 5_000.0) == pytest.approx(6_000 / 17)
    assert time_within(path, (3_000.0, 0.0), 2_000.0) == NEVER  # passes 3 km off
    assert time_within(path, (0.0, 0.0), 20_000.0) == 0.0  # starts inside
