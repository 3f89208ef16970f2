"""Simulation jobs on the queue: waiting, claiming, cancelling, taking over, limits and what
each role sees. The app here runs no worker of its own: each test runs the worker's steps
itself, so every interleaving it checks happens in a known order."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from hub.app import create_app
from hub.flows.simulation import run_simulation
from hub.jobs import queue
from hub.jobs.queue import JobLost
from hub.jobs.worker import Worker
from sandbox.anonymise import company_key, pseudonym
from sandbox.models import Engagement, Organisation, Role, SimulationJob, Trial, Version
from simulators.scenario import load_scenario
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_version
from tests.hub.test_simulations import finished

RUNS, RAID = 20, 20  # fpv_swarm flies 20 threats a run


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={
        "simulation_workers": 0, "simulation_company_running": 1,
        "simulation_company_queued": 1, "simulation_company_runs": 500,
        "simulation_staff_running": 1, "simulation_staff_queued": 1,
        "simulation_staff_runs": 1000})


@pytest.fixture
def owned(client, make_user):
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          parameters={"p_kill": 0.8})
    return engineer, version


@pytest.fixture
def worker(engine, settings) -> Worker:
    return Worker(engine, settings, name="test-worker")


def post(client, user, version, **body):
    return client.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(user),
                       json={"scenario": "fpv_swarm", "runs": RUNS, **body})


def status(client, user, job_id: str) -> dict:
    return client.get(f"/api/v1/simulations/{job_id}", headers=auth(user)).json()


def claim(engine, name: str = "test-worker", lease_s: float = 30):
    return queue.claim(engine, worker=name, lease_s=lease_s)


def recorded(session: Session, version_id: int) -> tuple[int, int]:
    """(trials, engagements) recorded for the version."""
    session.expire_all()
    trials = session.exec(select(Trial.id).where(Trial.version_id == version_id)).all()
    engagements = session.exec(select(func.count()).select_from(Engagement).where(
        Engagement.trial_id.in_(trials))).one() if trials else 0
    return len(trials), engagements


def record_directly(engine, job, version_id: int) -> None:
    """What a worker does between its last chunk and its job's end: write the trial."""
    with Session(engine) as session:
        queue.bind_recording(session, job)
        run_simulation(session=session, version=session.get(Version, version_id),
                       scenario=load_scenario("fpv_swarm"), runs=RUNS, seed=1, by=None)


def test_a_job_waits_queued_until_a_worker_runs_it(client, owned, engine, worker,
                                                   session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    assert (job["status"], job["done_runs"], job["total_runs"]) == ("queued", 0, RUNS)
    claimed = claim(engine)
    assert claimed.id == job["id"] and status(client, engineer, job["id"])["status"] == "running"
    worker.run_job(claimed)
    done = status(client, engineer, job["id"])
    assert (done["status"], done["done_runs"], done["error"]) == ("done", RUNS, None)
    assert recorded(session, version["id"]) == (1, RUNS * RAID)
    assert claim(engine) is None


def test_a_cancelled_queued_job_never_runs(client, owned, engine, session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    cancelled = client.delete(f"/api/v1/simulations/{job['id']}", headers=auth(engineer))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert claim(engine) is None
    again = client.delete(f"/api/v1/simulations/{job['id']}", headers=auth(engineer))
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert recorded(session, version["id"]) == (0, 0)


def test_a_cancelled_running_job_stops_at_its_next_chunk_and_records_nothing(
        client, owned, engine, worker, session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    claimed = claim(engine)
    client.delete(f"/api/v1/simulations/{job['id']}", headers=auth(engineer))
    worker.run_job(claimed)
    after = status(client, engineer, job["id"])
    assert (after["status"], after["done_runs"], after["trial"]) == ("cancelled", 0, None)
    assert recorded(session, version["id"]) == (0, 0)


def test_a_job_cancelled_while_its_trial_is_written_records_nothing(client, owned, engine,
                                                                    session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    claimed = claim(engine)
    client.delete(f"/api/v1/simulations/{job['id']}", headers=auth(engineer))
    with pytest.raises(JobLost):
        record_directly(engine, claimed, version["id"])
    assert recorded(session, version["id"]) == (0, 0)
    assert status(client, engineer, job["id"])["status"] == "cancelled"


def test_a_job_taken_over_is_recorded_once_by_the_attempt_holding_it(client, owned, engine,
                                                                     worker, session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    first = claim(engine, "dead-worker", lease_s=-1)  # its lease is out: as if it had died
    second = claim(engine)
    assert (second.id, second.trial_id) == (first.id, None) and second.token != first.token
    with pytest.raises(JobLost):  # the first attempt wakes up and tries to record
        record_directly(engine, first, version["id"])
    worker.run_job(second)
    assert recorded(session, version["id"]) == (1, RUNS * RAID)
    row = session.get(SimulationJob, job["id"])
    assert (row.status, row.attempts, row.claimed_by) == ("done", 2, second.token)


def test_a_job_whose_trial_was_recorded_is_completed_not_run_again(client, owned, engine,
                                                                   worker, session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    first = claim(engine, "dying-worker", lease_s=-1)
    record_directly(engine, first, version["id"])  # then the worker dies before the end
    midway = status(client, engineer, job["id"])
    assert midway["status"] == "running" and midway["trial"].startswith("trial-")
    refused = client.delete(f"/api/v1/simulations/{job['id']}", headers=auth(engineer))
    assert refused.status_code == 409 and "already recorded" in refused.json()["detail"]
    second = claim(engine)
    assert second.trial_id is not None
    worker.run_job(second)
    assert status(client, engineer, job["id"])["status"] == "done"
    assert recorded(session, version["id"]) == (1, RUNS * RAID)


def test_a_stopping_worker_puts_its_job_back_in_the_queue(client, owned, engine, worker,
                                                          session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    claimed = claim(engine)
    worker.stop()
    worker.run_job(claimed)
    assert status(client, engineer, job["id"])["status"] == "queued"
    assert recorded(session, version["id"]) == (0, 0)
    assert claim(engine).id == job["id"]


def test_a_job_queued_by_a_hub_that_stopped_is_run_by_the_next(client, owned, engine,
                                                               settings) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    client.__exit__(None, None, None)  # the hub that accepted it stops; the queue stays
    later = create_app(settings.model_copy(update={"simulation_workers": 1}), engine=engine)
    with TestClient(later) as restarted:
        assert finished(restarted, engineer, job["id"])["status"] == "done"


def test_a_company_past_its_limits_gets_429_naming_them(client, owned, make_user,
                                                        session) -> None:
    engineer, version = owned
    company = session.get(Organisation, engineer.organisation_id)
    colleague = make_user(Role.engineer, org=company)
    too_long = post(client, engineer, version, runs=501)
    assert too_long.status_code == 429
    assert too_long.json()["detail"] == "runs: at most 500 per simulation for your company"
    first = post(client, engineer, version).json()
    assert post(client, colleague, version).status_code == 202  # one running, one queued
    refused = post(client, colleague, version)
    assert refused.status_code == 429
    assert "limit 1 running and 1 queued" in refused.json()["detail"]
    assert session.exec(select(func.count()).select_from(SimulationJob)).one() == 2
    other = make_user(Role.engineer)
    theirs = new_version(client, other, new_prototype(client, other)["id"])
    assert post(client, other, theirs).status_code == 202  # another company: its own limits
    client.delete(f"/api/v1/simulations/{first['id']}", headers=auth(engineer))
    assert post(client, colleague, version).status_code == 202


def test_reviewers_and_admins_have_limits_of_their_own(client, owned, make_user) -> None:
    engineer, version = owned
    post(client, engineer, version)
    post(client, engineer, version)  # the company is full
    reviewer, admin = make_user(Role.reviewer), make_user(Role.admin)
    assert post(client, reviewer, version, runs=1000).status_code == 202
    assert post(client, reviewer, version).status_code == 202
    refused = post(client, reviewer, version)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(f"reviewer {reviewer.name} already has 2 ")
    assert post(client, admin, version).status_code == 202  # each person counts alone
    assert "at most 1000" in post(client, admin, version, runs=1001).json()["detail"]


def test_a_company_runs_at_most_its_running_limit_at_once(client, owned, make_user, engine,
                                                          worker) -> None:
    engineer, version = owned
    first, second = (post(client, engineer, version).json()["id"] for _ in range(2))
    other = make_user(Role.engineer)
    theirs = post(client, other, new_version(client, other, new_prototype(
        client, other)["id"])).json()["id"]
    running = claim(engine)
    assert running.id == first
    assert claim(engine).id == theirs  # the company's second waits; others' jobs do not
    assert claim(engine) is None
    worker.run_job(running)
    assert claim(engine).id == second


def test_engineers_see_the_trials_pseudonym_reviewers_its_id(client, owned, engine, worker,
                                                             make_user, session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    worker.run_job(claim(engine))
    [trial_id] = session.exec(select(Trial.id).where(Trial.version_id == version["id"])).all()
    seen = status(client, engineer, job["id"])
    key = company_key(SECRET.encode(), engineer.organisation_id)
    assert (seen["trial_id"], seen["trial"]) == (
        None, pseudonym(str(trial_id), key=key, kind="trial"))
    prototype_id = session.get(Version, version["id"]).prototype_id
    exported = client.get(f"/api/v1/prototypes/{prototype_id}/feedback?part=telemetry",
                          headers=auth(engineer)).json()
    assert [row["trial"] for row in exported["telemetry"]] == [seen["trial"]]
    reviewed = status(client, make_user(Role.reviewer), job["id"])
    assert (reviewed["trial_id"], reviewed["trial"]) == (trial_id, seen["trial"])


def test_only_the_company_reviewers_and_admins_may_watch_or_cancel(client, owned, make_user,
                                                                   session) -> None:
    engineer, version = owned
    job = post(client, engineer, version).json()
    path = f"/api/v1/simulations/{job['id']}"
    stranger, soldier = make_user(Role.engineer), make_user(Role.soldier)
    colleague = make_user(Role.engineer, org=session.get(Organisation,
                                                         engineer.organisation_id))
    for method in (client.get, client.delete):
        assert method(path, headers=auth(soldier)).status_code == 403
        assert method(path, headers=auth(stranger)).json() == {
            "detail": f"simulation {job['id']} not found"}
    assert client.get("/api/v1/simulations/nosuchjob", headers=auth(engineer)).status_code \
        == 404
    assert status(client, colleague, job["id"])["status"] == "queued"
    assert status(client, make_user(Role.admin), job["id"])["status"] == "queued"
    cancelled = client.delete(path, headers=auth(make_user(Role.reviewer)))
    assert cancelled.json()["status"] == "cancelled"
