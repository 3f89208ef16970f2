"""Simulation trials, run in the background with progress (owning engineer, reviewer, admin)."""

import threading
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlmodel import Session

from hub.deps import SessionDep, SimulationUser, VersionDep
from hub.flows.simulation import MAX_RUNS, check_simulable, run_simulation, scenario_named
from sandbox import access, audit
from sandbox.audit import Actor
from sandbox.errors import DomainError
from sandbox.models import Role, User, Version
from telemetry.objects import Storage

router = APIRouter(tags=["simulations"])


class SimulationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    runs: int = Field(default=1000, ge=1, le=MAX_RUNS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)


class SimulationStatus(BaseModel):
    id: str
    version_id: int
    scenario: str
    status: Literal["running", "done", "failed"]
    done_runs: int
    total_runs: int
    trial_id: int | None = None
    error: str | None = None


@dataclass
class Job:
    status: SimulationStatus
    owner_id: int
    organisation_id: int
    lock: threading.Lock = field(default_factory=threading.Lock)


@router.post("/versions/{version_id}/simulations", response_model=SimulationStatus,
             status_code=status.HTTP_202_ACCEPTED,
             summary="Trial a version in simulation, in the background "
                     "(owning engineer, reviewer, admin)")
def start(request: Request, version: VersionDep, body: SimulationRequest, session: SessionDep,
          user: SimulationUser, background: BackgroundTasks) -> SimulationStatus:
    prototype = check_simulable(session, version)
    if user.role == Role.engineer:
        access.check_prototype_owner(user, prototype)
    scenario = scenario_named(body.scenario, allow_files=False)
    job = Job(SimulationStatus(id=uuid.uuid4().hex, version_id=version.id or 0,
                               scenario=scenario.name, status="running", done_runs=0,
                               total_runs=body.runs),
              owner_id=user.id or 0, organisation_id=prototype.organisation_id)
    request.app.state.simulations[job.status.id] = job
    background.add_task(_run, request.app.state.engine, job, version.id or 0, body,
                        session.info["actor"], user, request.app.state.settings.storage())
    return job.status


def _run(engine: Engine, job: Job, version_id: int, body: SimulationRequest, actor: Actor,
         user: User, storage: Storage) -> None:
    def progress(done: int, total: int) -> None:
        with job.lock:
            job.status.done_runs = done

    with Session(engine) as session:
        audit.audit_writes(session, actor)
        try:
            version = session.get(Version, version_id)
            assert version is not None
            trial = run_simulation(session=session, version=version,
                                   scenario=scenario_named(body.scenario, allow_files=False),
                                   runs=body.runs, seed=body.seed, by=user, storage=storage,
                                   progress=progress)
            with job.lock:
                job.status.trial_id, job.status.status = trial.id, "done"
        except DomainError as error:
            _fail(job, str(error))
        except Exception:
            _fail(job, "the simulation failed; nothing was recorded")
            raise


def _fail(job: Job, reason: str) -> None:
    with job.lock:
        job.status.status, job.status.error = "failed", reason


@router.get("/simulations/{job_id}", response_model=SimulationStatus,
            summary="Progress of a simulation (who started it, their company, reviewer, admin)")
def progress(request: Request, job_id: Annotated[str, PathParam(max_length=64)],
             user: SimulationUser) -> SimulationStatus:
    job: Job | None = request.app.state.simulations.get(job_id)
    visible = job is not None and (user.role in access.EVERYTHING
                                   or job.organisation_id == user.organisation_id)
    if job is None or not visible:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"simulation {job_id} not found")
    with job.lock:
        return job.status.model_copy()
