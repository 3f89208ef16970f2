import pytest

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
                                               ({"salvo": "two"}, "salvo")])
def test_impossible_version_parameters_are_refused(parameters, field) -> None:
    with pytest.raises(ScenarioError, match=field):
        defender_from_parameters(parameters, name="x", unit_cost_cents=1, reusable=False)
