import math
import time

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.flows.simulation import defender_for
from sandbox.models import (
    Engagement,
    Prototype,
    Role,
    SimulationJob,
    TelemetrySession,
    Trial,
    Version,
)
from simulators.engine import simulate
from simulators.scenario import load_scenario
from tests.conftest import auth
from tests.factories import new_prototype, new_version


@pytest.fixture
def owned(client, make_user):
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          parameters={"speed_mps": 90, "p_kill": 0.8})
    return engineer, version


def finished(client, user, job_id: str, timeout_s: float = 60) -> dict:
    """The job's status once a worker has ended it (the test app runs one worker)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/api/v1/simulations/{job_id}", headers=auth(user)).json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"simulation {job_id} still {job['status']}"
        time.sleep(0.02)


def recorded_trial(client, job_id: str) -> int:
    """The raw id of the job's trial (engineers only ever see its pseudonym)."""
    with Session(client.app.state.engine) as session:
        return session.get(SimulationJob, job_id).trial_id


def simulated_trial(client, engineer, version, **body) -> int:
    """Run a simulation through the API and the test app's worker; the trial's raw id."""
    job = client.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(engineer),
                      json=body).json()
    assert finished(client, engineer, job["id"])["status"] == "done"
    return recorded_trial(client, job["id"])


def test_engineer_trials_own_version_in_simulation(client, owned, session) -> None:
    engineer, version = owned
    started = client.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(engineer),
                          json={"scenario": "shahed_raid", "runs": 50, "seed": 4})
    assert started.status_code == 202
    assert started.json()["status"] in ("queued", "running")
    job = finished(client, engineer, started.json()["id"])
    assert (job["status"], job["done_runs"], job["total_runs"]) == ("done", 50, 50)
    trial = session.get(Trial, recorded_trial(client, job["id"]))
    assert (trial.kind, trial.scenario, trial.unit_id) == ("simulation", "shahed_raid", None)
    engagements = session.exec(select(Engagement).where(Engagement.trial_id == trial.id)).all()
    assert len(engagements) == 50 * 12
    assert {e.threat_kind for e in engagements} == {"shahed_136"}
    score = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(engineer)).json()
    assert score["by_trial_kind"]["simulation"]["engagements"] == 600
    locked = client.get(f"/api/v1/versions/{version['id']}", headers=auth(engineer)).json()
    assert locked["locked"] is True


def test_the_recorded_engagements_are_the_simulated_ones(client, owned, session) -> None:
    engineer, version = owned
    trial_id = simulated_trial(client, engineer, version, scenario="fpv_swarm", runs=4, seed=2)
    rows = session.exec(select(Engagement).where(Engagement.trial_id == trial_id)
                        .order_by(Engagement.id)).all()
    found = session.get(Version, version["id"])
    defender = defender_for(found, session.get(Prototype, found.prototype_id))
    expected = simulate(load_scenario("fpv_swarm"), defender, runs=4, seed=2)
    assert [r.outcome for r in rows] == expected["outcome"].astype(str).tolist()
    assert [r.interceptors_used for r in rows] == expected["interceptors_used"].tolist()
    # misses and hits alternate: each row keeps its own nulls
    hits = [not math.isnan(t) for t in expected["time_to_intercept_s"]]
    assert 0 < sum(hits) < len(hits)
    assert [r.time_to_intercept_s is not None for r in rows] == hits
    assert [r.time_to_intercept_s for r in rows if r.time_to_intercept_s is not None] \
        == pytest.approx(expected["time_to_intercept_s"].dropna().tolist())


def test_same_seed_gives_the_same_engagements(client, owned, session) -> None:
    engineer, version = owned
    outcomes = []
    for _ in range(2):
        trial_id = simulated_trial(client, engineer, version, scenario="fpv_swarm", runs=5,
                                   seed=9)
        rows = session.exec(select(Engagement).where(Engagement.trial_id == trial_id)
                            .order_by(Engagement.id)).all()
        outcomes.append([(r.outcome, r.interceptors_used) for r in rows])
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("body, field", [({"scenario": "no_such"}, "scenario"),
                                         ({"scenario": "../etc/passwd"}, "scenario"),
                                         ({"scenario": "shahed_raid", "runs": 10**6}, "runs"),
                                         ({"scenario": "shahed_raid", "seed": -1}, "seed")])
def test_bad_simulation_requests_record_nothing(client, owned, session, body, field) -> None:
    engineer, version = owned
    response = client.post(f"/api/v1/versions/{version['id']}/simulations",
                           headers=auth(engineer), json=body)
    assert response.status_code == 422
    assert field in response.text
    assert session.exec(select(Trial)).all() == []


def test_impossible_version_parameters_fail_the_job_clearly(client, make_user, session) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          parameters={"p_kill": 3})
    job = client.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(engineer),
                      json={"scenario": "shahed_raid", "runs": 2}).json()
    status = finished(client, engineer, job["id"])
    assert status["status"] == "failed"
    assert "p_kill" in status["error"]
    assert session.exec(select(Trial)).all() == []


def test_others_cannot_simulate_or_watch(client, owned, make_user) -> None:
    engineer, version = owned
    stranger = make_user(Role.engineer)
    path = f"/api/v1/versions/{version['id']}/simulations"
    body = {"scenario": "shahed_raid", "runs": 1}
    assert client.post(path, headers=auth(stranger), json=body).status_code == 404
    assert client.post(path, headers=auth(make_user(Role.soldier)), json=body).status_code == 403
    job = client.post(path, headers=auth(engineer), json=body).json()
    assert client.get(f"/api/v1/simulations/{job['id']}",
                      headers=auth(stranger)).status_code == 404
    assert client.get(f"/api/v1/simulations/{job['id']}",
                      headers=auth(make_user(Role.reviewer))).status_code == 200


def test_cli_simulate_records_a_trial_and_compares_baselines(owned, session, monkeypatch,
                                                            settings) -> None:
    _engineer, version = owned
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_DATA_DIR", str(settings.data_dir))  # not the working folder's
    result = CliRunner().invoke(cli, ["simulate", "--version", str(version["id"]),
                                      "--scenario", "recon_probe", "--runs", "20"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"Hornet 1.0.0 (version {version['id']}) in scenario recon_probe, 20 runs" in text
    assert "baseline Patriot-class SAM (patriot_pac3)" in text
    [trial] = session.exec(select(Trial).where(Trial.version_id == version["id"])).all()
    assert trial.scenario == "recon_probe"
    assert "20 runs" in trial.notes


def test_a_simulation_also_flies_synthetic_telemetry(client, owned, session) -> None:
    engineer, version = owned
    trial_id = simulated_trial(client, engineer, version, scenario="shahed_raid", runs=3,
                               seed=2)
    [telemetry] = session.exec(select(TelemetrySession).where(
        TelemetrySession.trial_id == trial_id)).all()
    assert telemetry.source == "simulation"
    assert set(telemetry.counts) == {"ATTITUDE", "BATTERY_STATUS", "GLOBAL_POSITION_INT",
                                     "HEARTBEAT"}
    assert telemetry.link_lost == 0
