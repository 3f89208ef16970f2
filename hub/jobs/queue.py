"""The simulation queue: rows of `simulation_job`, claimed one at a time under a lease.

The queue is our own table rather than a queue library's (procrastinate, say) because the job's
status, progress and result must live in our table anyway, for any replica to read, and only
there can the job's completion share a transaction with its trial: a library's job table would
be a second record of the same job to keep in step, and none speaks SQLite, which the embedded
hub must run the same code on. What a library would add is here in a few statements: a claim
made atomic by a per-queue lock (an advisory lock on PostgreSQL) and a conditional UPDATE, a
lease the worker renews while it runs, and take-over of a job whose lease ran out.

A job is recorded at most once: the UPDATE that sets its `trial_id` runs in the transaction
that writes the trial and its engagements, and only while the attempt still holds the job
(`claimed_by`) and it is still running (not cancelled). A taken-over or cancelled attempt
rolls back whole.
"""

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from hub.settings import Settings
from sandbox.errors import Conflict, NotFound, TooMany
from sandbox.models import (
    JobStatus,
    Prototype,
    Role,
    SimulationJob,
    Trial,
    User,
    Version,
)
from sandbox.models.jobs import UNFINISHED
from sandbox.timeutil import utcnow

STAFF = (Role.reviewer, Role.admin)


class JobLost(Exception):
    """The job was cancelled or taken over by another worker: this attempt records nothing."""


@dataclass(frozen=True)
class Limits:
    running: int
    queued: int
    runs: int


@dataclass(frozen=True)
class Quotas:
    """Engineers' simulations count against their company; each reviewer's or admin's
    against that person alone, with limits of their own."""

    company: Limits
    staff: Limits

    @classmethod
    def from_settings(cls, settings: Settings) -> "Quotas":
        return cls(company=Limits(settings.simulation_company_running,
                                  settings.simulation_company_queued,
                                  settings.simulation_company_runs),
                   staff=Limits(settings.simulation_staff_running,
                                settings.simulation_staff_queued,
                                settings.simulation_staff_runs))

    def of(self, user: User) -> tuple[str, str, Limits]:
        """(quota key, who it is in words, limits)."""
        if user.role in STAFF:
            return f"user:{user.id}", f"{user.role} {user.name}", self.staff
        return f"company:{user.organisation_id}", "your company", self.company


@dataclass(frozen=True)
class Claimed:
    """One attempt at a job: what to run, and the token that proves the attempt holds it."""

    id: str
    token: str
    version_id: int
    requested_by_id: int
    scenario: str
    runs: int
    seed: int
    trial_id: int | None


# --- queueing, reading, cancelling (hub replicas) ------------------------------------------

def enqueue(*, session: Session, version: Version, prototype: Prototype, scenario: str,
            runs: int, seed: int, by: User, quotas: Quotas) -> SimulationJob:
    """Queue a simulation, unless its requester's quota is full (TooMany names the limit)."""
    quota, who, limits = quotas.of(by)
    if runs > limits.runs:
        raise TooMany(f"runs: at most {limits.runs} per simulation for {who}")
    with _serialised(session, quota):
        unfinished = session.exec(select(func.count()).select_from(SimulationJob).where(
            SimulationJob.quota == quota, col(SimulationJob.status).in_(UNFINISHED))).one()
        if unfinished >= limits.running + limits.queued:
            raise TooMany(f"{who} already has {unfinished} simulations running or queued "
                          f"(limit {limits.running} running and {limits.queued} queued): "
                          "wait for one to finish, or cancel one")
        job = SimulationJob(id=uuid.uuid4().hex, version_id=version.id or 0,
                            organisation_id=prototype.organisation_id,
                            requested_by_id=by.id or 0, quota=quota,
                            running_limit=limits.running, scenario=scenario, runs=runs,
                            seed=seed)
        session.add(job)
        session.commit()
    session.refresh(job)
    return job


def visible_job(*, session: Session, job_id: str, by: User) -> SimulationJob:
    """The job, if `by` may see it: reviewers and admins any, engineers their company's."""
    job = session.get(SimulationJob, job_id)
    if job is None or (by.role not in STAFF and job.organisation_id != by.organisation_id):
        raise NotFound(f"simulation {job_id} not found")
    return job


def cancel(*, session: Session, job_id: str, by: User) -> SimulationJob:
    """Cancel a queued job (it never runs) or a running one (its worker stops at the next
    chunk and records nothing); a job whose trial is recorded can no longer be cancelled."""
    job = visible_job(session=session, job_id=job_id, by=by)
    cancelled = session.execute(sa.update(SimulationJob).where(
        col(SimulationJob.id) == job.id, col(SimulationJob.status).in_(UNFINISHED),
        col(SimulationJob.trial_id).is_(None)).values(
        status=JobStatus.cancelled, finished_at=utcnow(), lease_until=None))
    if _count(cancelled) != 1:
        session.rollback()
        session.refresh(job)
        raise Conflict(f"simulation {job.id} is already {_finished_word(job)}: nothing to "
                       "cancel")
    session.commit()
    session.refresh(job)
    return job


def _finished_word(job: SimulationJob) -> str:
    return "recorded" if job.trial_id is not None else str(job.status)


# --- claiming and running (workers) --------------------------------------------------------

def claim(engine: Engine, *, worker: str, lease_s: float) -> Claimed | None:
    """Take the oldest job whose worker stopped renewing its lease (to run it again), else the
    oldest queued job whose quota has a running place free; None when there is none."""
    token = f"{worker}:{uuid.uuid4().hex[:8]}"
    now = utcnow()
    with Session(engine) as session, _serialised(session, "claim"):
        for condition in (_stale(now), _waiting()):
            found = session.exec(select(SimulationJob.id).where(*condition)
                                 .order_by(col(SimulationJob.created_at)).limit(1)).first()
            if found is None:
                continue
            # the conditions again, in the UPDATE: on SQLite this one statement is the lock
            taken = session.execute(sa.update(SimulationJob).where(
                col(SimulationJob.id) == found, *condition).values(
                status=JobStatus.running, claimed_by=token,
                lease_until=now + timedelta(seconds=lease_s),
                attempts=SimulationJob.attempts + 1))
            if _count(taken) == 1:
                session.commit()
                return _claimed(session.get(SimulationJob, found), token)
        session.commit()
    return None


def _stale(now: Any) -> tuple[Any, ...]:
    return (col(SimulationJob.status) == JobStatus.running,
            col(SimulationJob.lease_until) < now)


def _waiting() -> tuple[Any, ...]:
    running = aliased(SimulationJob)
    busy = select(func.count()).select_from(running).where(
        running.quota == SimulationJob.quota,
        running.status == JobStatus.running).scalar_subquery()
    return (col(SimulationJob.status) == JobStatus.queued, busy < SimulationJob.running_limit)


def _claimed(job: SimulationJob | None, token: str) -> Claimed:
    assert job is not None  # claimed in this transaction
    return Claimed(id=job.id, token=token, version_id=job.version_id,
                   requested_by_id=job.requested_by_id, scenario=job.scenario, runs=job.runs,
                   seed=job.seed, trial_id=job.trial_id)


def _held(job: Claimed) -> tuple[Any, ...]:
    return (col(SimulationJob.id) == job.id, col(SimulationJob.claimed_by) == job.token,
            col(SimulationJob.status) == JobStatus.running)


def report_progress(engine: Engine, job: Claimed, *, done_runs: int, lease_s: float) -> bool:
    """Record progress and renew the lease; False once the attempt no longer holds the job."""
    return _update_held(engine, job, done_runs=done_runs,
                        lease_until=utcnow() + timedelta(seconds=lease_s))


def renew(engine: Engine, job: Claimed, *, lease_s: float) -> bool:
    return _update_held(engine, job, lease_until=utcnow() + timedelta(seconds=lease_s))


def finish(engine: Engine, job: Claimed, *, error: str | None = None) -> None:
    """Done if its trial is recorded (an error then says what failed after), else failed."""
    _update_held(engine, job, error=error and error[:500], finished_at=utcnow(),
                 lease_until=None, status=sa.case(
                     (col(SimulationJob.trial_id).is_not(None), JobStatus.done.value),
                     else_=JobStatus.failed.value))


def release(engine: Engine, job: Claimed) -> None:
    """Put an unrecorded job back in the queue (its worker is stopping), to start afresh."""
    _update_held(engine, job, status=JobStatus.queued, claimed_by=None, lease_until=None,
                 done_runs=0)


def _update_held(engine: Engine, job: Claimed, **values: Any) -> bool:
    with engine.begin() as connection:
        return _count(connection.execute(
            sa.update(SimulationJob).where(*_held(job)).values(**values))) == 1


def bind_recording(session: Session, job: Claimed) -> None:
    """Set the job's trial in the transaction that writes the trial (and its engagements),
    and only while this attempt holds the running job; else that transaction rolls back."""
    @event.listens_for(session, "after_flush")
    def record(flushed: Session, _context: object) -> None:
        for trial in [obj for obj in flushed.new if isinstance(obj, Trial)
                      and obj.version_id == job.version_id]:  # not the baselines' trials
            bound = flushed.connection().execute(sa.update(SimulationJob).where(
                *_held(job), col(SimulationJob.trial_id).is_(None)).values(trial_id=trial.id))
            if _count(bound) != 1:
                raise JobLost(f"simulation {job.id} was cancelled or taken over")


# --- one step at a time, across processes --------------------------------------------------

_local = threading.Lock()


@contextmanager
def _serialised(session: Session, name: str) -> Iterator[None]:
    """Count-then-write as one step: a transaction-scoped advisory lock on PostgreSQL (held
    until the session commits or rolls back), a lock of this process on SQLite (one hub
    process per SQLite database; the claim's UPDATE re-checks its conditions besides)."""
    if session.get_bind().dialect.name != "postgresql":
        with _local:
            yield
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                         signed=True)
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    yield


def _count(result: Any) -> int:
    return int(result.rowcount)
