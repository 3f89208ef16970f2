"""Simulation workers as real processes beside real hub processes, on one database: a job
posted to replica A runs on a `soldierslab worker` and is watched from replica B; a worker
SIGKILLed mid-job leaves the job to the next one, which records every engagement once."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx2 as httpx  # the HTTP client the test extra declares
import pytest
from sqlmodel import Session

from hub.db import make_engine
from sandbox.models import Role, SimulationJob
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_version
from tests.hub.served import hub_process
from tests.hub.test_simulation_jobs import recorded

RUNS, RAID = 2_000, 20  # fpv_swarm: one chunk, then about a second writing 40,000 rows
SOAK_RUNS = 13_000  # two chunks (12,500 runs at most each), then 260,000 rows
LEASE_S = 2


def shared(tmp_path: Path) -> dict[str, str]:
    """What every process of one deployment shares, beside the database."""
    return {"audit_key": "workers-share-one-audit-key-" + "k" * 16,
            "telemetry_url": str(tmp_path / "telemetry"), "simulation_workers": "0",
            "simulation_lease_s": str(LEASE_S), "simulation_poll_s": "0.1"}


@contextmanager
def worker_process(database_url: str, data_dir: Path, name: str,
                   **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m hub.cli worker` on the test database; killed afterwards if still running."""
    data_dir.mkdir(parents=True, exist_ok=True)
    variables = {**os.environ, "SOLDIERSLAB_DATABASE_URL": database_url,
                 "SOLDIERSLAB_DATA_DIR": str(data_dir), "SOLDIERSLAB_SECRET_KEY": SECRET,
                 **{f"SOLDIERSLAB_{key.upper()}": value for key, value in env.items()}}
    with (data_dir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "hub.cli", "worker", "--name", name],
                                   env=variables, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def watch(hub, user, job_id: str, until, timeout_s: float = 120) -> list[tuple]:
    """(status, done_runs) as the hub reports them, until `until(status)` holds."""
    seen: list[tuple] = []
    deadline = time.monotonic() + timeout_s
    while not seen or not until(seen[-1]):
        assert time.monotonic() < deadline, f"simulation {job_id}: {seen[-3:]}"
        job = hub.get(f"/api/v1/simulations/{job_id}", headers=auth(user)).json()
        if not seen or seen[-1] != (job["status"], job["done_runs"]):
            seen.append((job["status"], job["done_runs"]))
        time.sleep(0.01)
    return seen


def job_row(database_url: str, job_id: str) -> SimulationJob:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.get(SimulationJob, job_id)
    finally:
        engine.dispose()


def start_job(hub, user, engineer, runs: int = RUNS) -> tuple[dict, dict]:
    version = new_version(hub, engineer, new_prototype(hub, engineer)["id"],
                          parameters={"p_kill": 0.7})
    job = hub.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(user),
                   json={"scenario": "fpv_swarm", "runs": runs, "seed": 3}).json()
    return version, job


def test_a_job_posted_to_one_replica_runs_on_a_worker_and_is_watched_from_another(
        tmp_path, database_url, session, make_user) -> None:
    env = shared(tmp_path)
    replica = partial(hub_process, database_url, **env)
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    with replica(tmp_path / "a") as a, replica(tmp_path / "b") as b, \
            httpx.Client(base_url=a.url, timeout=60) as to_a, \
            httpx.Client(base_url=b.url, timeout=60) as to_b:
        version, job = start_job(to_a, reviewer, engineer)
        assert (job["status"], job["total_runs"]) == ("queued", RUNS)
        time.sleep(0.5)  # no replica runs it: neither has a worker
        assert watch(to_b, engineer, job["id"], until=lambda s: True) == [("queued", 0)]
        with worker_process(database_url, tmp_path / "w", "worker-1", **env):
            seen = watch(to_b, engineer, job["id"], until=lambda s: s[0] == "done")
    assert seen[-1] == ("done", RUNS)
    assert any(state == "running" and 0 < done <= RUNS for state, done in seen), seen
    assert job_row(database_url, job["id"]).claimed_by.startswith("worker-1:")
    assert recorded(session, version["id"]) == (1, RUNS * RAID)


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"simulation_workers": 0})  # the worker processes run it


def test_a_worker_killed_mid_job_leaves_it_to_the_next_which_records_it_once(
        tmp_path, database_url, client, session, make_user) -> None:
    env = shared(tmp_path)
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    version, job = start_job(client, reviewer, engineer)
    with worker_process(database_url, tmp_path / "w", "doomed", **env) as doomed:
        watch(client, reviewer, job["id"], until=lambda s: s[1] > 0)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    killed = job_row(database_url, job["id"])
    assert (killed.status, killed.claimed_by.split(":")[0]) == ("running", "doomed")
    with worker_process(database_url, tmp_path / "w", "next", **env):
        seen = watch(client, reviewer, job["id"], until=lambda s: s[0] != "running")
    assert seen[-1] == ("done", RUNS)
    row = job_row(database_url, job["id"])
    assert (row.attempts, row.claimed_by.split(":")[0]) == (2, "next")
    assert recorded(session, version["id"]) == (1, RUNS * RAID), \
        f"killed {'after' if killed.trial_id else 'before'} its trial was recorded"


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.0, 0.4, 0.8, 1.2, 1.6, 2.4, 3.2])
def test_workers_killed_at_various_moments_record_each_job_once_soak(
        tmp_path, database_url, client, session, make_user, delay_s) -> None:
    env = shared(tmp_path)
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    version, job = start_job(client, reviewer, engineer, SOAK_RUNS)
    with worker_process(database_url, tmp_path / "w", "doomed", **env) as doomed:
        watch(client, reviewer, job["id"], until=lambda s: s[0] != "queued")
        time.sleep(delay_s)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    with worker_process(database_url, tmp_path / "w", "next", **env):
        seen = watch(client, reviewer, job["id"], until=lambda s: s[0] == "done")
    assert seen[-1] == ("done", SOAK_RUNS)
    assert recorded(session, version["id"]) == (1, SOAK_RUNS * RAID)
