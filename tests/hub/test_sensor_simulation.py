"""A C-UAS sensor trialled in simulation, scored like a field trial."""

import re

import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.flows.sensor_simulation import SITE
from sandbox.detection import score_detections
from sandbox.models import Role
from simulators.scenario import load_scenario
from simulators.sensor import raid_tracks, sensor_from_parameters, simulate_detections
from tests.conftest import auth
from tests.factories import new_prototype, new_version
from tests.hub.test_simulations import finished, simulated_trial

PARAMETERS = {"pd_max": 0.9, "range_50_m": 3500, "max_range_m": 6000,
              "false_alarms_per_h": 20, "position_sigma_m": 4}


def test_a_simulated_sensor_trial_yields_the_same_detection_score(client, make_user) -> None:
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name="Argus", kind="cuas_sensor")
    version = new_version(client, engineer, prototype["id"], parameters=PARAMETERS)
    trial_id = simulated_trial(client, engineer, version, scenario="recon_probe", runs=1,
                               seed=11)
    assert trial_id is not None
    trial = client.get(f"/api/v1/trials/{trial_id}", headers=auth(reviewer)).json()
    assert (trial["kind"], trial["lat"], trial["lon"]) == ("simulation", *SITE)
    hub = client.get(f"/api/v1/trials/{trial_id}/detection", headers=auth(reviewer)).json()
    # the same figures, straight from the simulator's own metres (the hub reads the targets'
    # telemetry and the detections as latitude and longitude, on each vehicle's clock)
    model = sensor_from_parameters(PARAMETERS)
    tracks = raid_tracks(load_scenario("recon_probe"), model, runs=1)
    direct = score_detections(tracks, simulate_detections(tracks, model, seed=11),
                              evaluated_range_m=6000)
    assert hub["epochs"] == pytest.approx(direct.epochs, rel=0.01)
    assert hub["detected"] == pytest.approx(direct.detected, rel=0.01)
    assert hub["pd"] == pytest.approx(direct.pd, abs=0.01)
    assert hub["false_alarms"] == pytest.approx(direct.false_alarms, abs=1)
    assert hub["position_error_p50_m"] == pytest.approx(direct.position_error_p50_m, rel=0.02)
    assert 0.5 < hub["pd"] < 0.9 and hub["pd_by_range"][0]["pd"] > hub["pd_by_range"][-1]["pd"]
    readiness = client.get(f"/api/v1/versions/{version['id']}/readiness",
                           headers=auth(engineer)).json()
    first = {c["name"]: c["actual"] for c in readiness["gates"][0]["criteria"]}
    assert first["min_simulation_detection_epochs"] == hub["epochs"]


def test_bad_sensor_parameters_fail_the_simulation_and_record_nothing(client,
                                                                     make_user) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer, name="Argus", kind="cuas_sensor")
    version = new_version(client, engineer, prototype["id"], parameters={"pd_max": 2})
    job = client.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(engineer),
                      json={"scenario": "recon_probe", "runs": 1}).json()
    status = finished(client, engineer, job["id"])
    assert status["status"] == "failed" and "pd_max" in status["error"]
    assert client.get("/api/v1/trials", headers=auth(make_user(Role.reviewer))).json() == []


def test_cli_simulate_scores_a_sensor_on_its_detections(client, make_user, monkeypatch,
                                                        settings) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer, name="Argus", kind="cuas_sensor")
    version = new_version(client, engineer, prototype["id"], parameters=PARAMETERS)
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(cli, ["simulate", "--version", str(version["id"]),
                                      "--scenario", "recon_probe", "--runs", "1",
                                      "--seed", "11"])
    assert result.exit_code == 0, result.output
    model = sensor_from_parameters(PARAMETERS)
    tracks = raid_tracks(load_scenario("recon_probe"), model, runs=1)
    direct = score_detections(tracks, simulate_detections(tracks, model, seed=11),
                              evaluated_range_m=6000)
    shown = re.search(r"detection: Pd ([0-9.]+) \((\d+) of (\d+)", result.output)
    assert shown is not None, result.output
    assert float(shown.group(1)) == pytest.approx(direct.pd, abs=0.01)
    assert int(shown.group(3)) == pytest.approx(direct.epochs, rel=0.01)
