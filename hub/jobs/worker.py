"""The worker: claims queued simulations and runs them, one at a time, until stopped. It runs
as `soldierslab worker` processes beside PostgreSQL, or as threads inside the hub (SQLite)."""

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.flows.simulation import baseline_trials, run_simulation, scenario_named
from hub.jobs import queue
from hub.jobs.queue import Claimed, JobLost
from hub.settings import Settings
from sandbox import audit
from sandbox.audit import Actor
from sandbox.errors import DomainError
from sandbox.models import Prototype, PrototypeKind, User, Version

logger = logging.getLogger(__name__)


class Stopped(Exception):
    """The worker is stopping: the job goes back to the queue, unrecorded."""


class Worker:
    """Claims and runs jobs until `stop()`; `wake()` cuts an idle wait short."""

    def __init__(self, engine: Engine, settings: Settings, *, name: str = "") -> None:
        self.engine, self.storage = engine, settings.storage()
        self.lease_s, self.poll_s = settings.simulation_lease_s, settings.simulation_poll_s
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stopping, self._woken = threading.Event(), threading.Event()

    def wake(self) -> None:
        self._woken.set()

    def stop(self) -> None:
        self.stopping.set()
        self._woken.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                job = queue.claim(self.engine, worker=self.name, lease_s=self.lease_s)
            except SQLAlchemyError:
                logger.exception("worker %s could not look for simulations", self.name)
                job = None
            if job is None:
                self._woken.wait(self.poll_s)
                self._woken.clear()
                continue
            with self._leased(job):
                self.run_job(job)

    @contextmanager
    def _leased(self, job: Claimed) -> Iterator[None]:
        """Renew the job's lease while it runs, also through long database writes."""
        ended = threading.Event()

        def renew() -> None:
            while not ended.wait(self.lease_s / 3):
                try:
                    queue.renew(self.engine, job, lease_s=self.lease_s)
                except SQLAlchemyError:
                    logger.warning("worker %s could not renew simulation %s", self.name, job.id)

        renewer = threading.Thread(target=renew, name=f"lease {job.id}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            ended.set()
            renewer.join()

    def run_job(self, job: Claimed) -> None:
        """Run the job to its end: done, failed, back in the queue (stopping), or nothing
        (cancelled, or taken over)."""
        try:
            error = self._simulate(job) if job.trial_id is None else self._complete(job)
        except Stopped:
            queue.release(self.engine, job)
        except JobLost:
            logger.info("simulation %s was cancelled or taken over", job.id)
        else:
            queue.finish(self.engine, job, error=error)

    def _simulate(self, job: Claimed) -> str | None:
        def progress(done: int, _total: int) -> None:
            if self.stopping.is_set():
                raise Stopped
            if not queue.report_progress(self.engine, job, done_runs=done,
                                         lease_s=self.lease_s):
                raise JobLost(job.id)

        with self._session(job) as (session, user, version):
            queue.bind_recording(session, job)
            try:
                run_simulation(session=session, version=version,
                               scenario=scenario_named(job.scenario, allow_files=False),
                               runs=job.runs, seed=job.seed, by=user, storage=self.storage,
                               progress=progress)
            except DomainError as error:
                return str(error)
            except (Stopped, JobLost):
                raise
            except Exception:
                logger.exception("simulation %s failed", job.id)
                return "the simulation failed"
        return None

    def _complete(self, job: Claimed) -> str | None:
        """A previous attempt recorded the trial and stopped before the end: what remains is
        the baselines on the scenario (the engine's trials are compared with them)."""
        with self._session(job) as (session, _user, version):
            prototype = session.get(Prototype, version.prototype_id)
            if prototype is not None and prototype.kind != PrototypeKind.cuas_sensor:
                baseline_trials(session=session,
                                scenario=scenario_named(job.scenario, allow_files=False))
        return None

    @contextmanager
    def _session(self, job: Claimed) -> Iterator[tuple[Session, User, Version]]:
        """A session whose writes are audited as the requester's, through this worker."""
        with Session(self.engine) as session:
            user, version = session.get(User, job.requested_by_id), \
                session.get(Version, job.version_id)
            assert user is not None and version is not None  # foreign keys
            audit.audit_writes(session, Actor(id=user.id, role=str(user.role),
                                              source=f"worker {self.name}",
                                              request=f"simulation {job.id}"))
            yield session, user, version


class WorkerThreads:
    """Workers inside a hub process (the embedded default on SQLite), started and stopped
    with the app."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        count = settings.simulation_workers
        if count is None:
            count = 1 if engine.dialect.name == "sqlite" else 0
        self.workers = [Worker(engine, settings, name=f"{socket.gethostname()}:{os.getpid()}"
                                                      f":hub-{number}")
                        for number in range(count)]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.threads = [threading.Thread(target=worker.run, name=worker.name, daemon=True)
                        for worker in self.workers]
        for thread in self.threads:
            thread.start()

    def wake(self) -> None:
        for worker in self.workers:
            worker.wake()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Running jobs go back to the queue at their next chunk; one still writing its
        trial when the time is up is run again by whichever worker finds its lease out."""
        for worker in self.workers:
            worker.stop()
        for thread in self.threads:
            thread.join(timeout_s)
