"""Simulation jobs: the durable queue that hub replicas fill and workers empty, and each job's
status and progress, readable from any replica."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sandbox.models.common import enum_column, utc_column


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


UNFINISHED = (JobStatus.queued, JobStatus.running)


class SimulationJob(SQLModel, table=True):
    """One simulation asked for: queued until a worker claims it, then running under that
    worker's lease until it is done, failed or cancelled.

    `quota` names who it counts against (a company, or one reviewer or admin) and
    `running_limit` how many of that quota's jobs may run at once, as set where it was queued.
    `claimed_by` is the attempt holding the job: the trial is recorded only while it still
    does, in the same transaction that sets `trial_id`, so a job is never recorded twice.
    """

    __tablename__ = "simulation_job"
    __table_args__ = (sa.Index("ix_simulation_job_quota_status", "quota", "status"),)
    id: str = Field(primary_key=True, max_length=32)
    version_id: int = Field(foreign_key="version.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    requested_by_id: int = Field(foreign_key="user.id")
    quota: str = Field(max_length=40)
    running_limit: int
    scenario: str = Field(max_length=64)
    runs: int
    seed: int = Field(sa_type=sa.BigInteger)  # up to 2**32 - 1
    status: JobStatus = Field(default=JobStatus.queued, sa_type=enum_column(JobStatus),
                              index=True)
    done_runs: int = 0
    trial_id: int | None = Field(default=None, foreign_key="trial.id")
    error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=120)
    attempts: int = 0
    lease_until: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()
    finished_at: datetime | None = utc_column(nullable=True)
