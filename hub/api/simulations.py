"""Simulation trials: queued here, run by workers, watched and cancelled from any replica
(the requesting company's engineers, reviewers, admins)."""

from typing import Annotated

from fastapi import APIRouter, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from hub.deps import SessionDep, SettingsDep, SimulationUser, VersionDep
from hub.flows.simulation import MAX_RUNS, check_simulable, scenario_named
from hub.jobs import queue
from hub.jobs.queue import STAFF, Quotas
from sandbox import access
from sandbox.anonymise import company_key, pseudonym
from sandbox.models import JobStatus, Role, SimulationJob, User

router = APIRouter(tags=["simulations"])
JobId = Annotated[str, PathParam(max_length=64)]


class SimulationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    runs: int = Field(default=1000, ge=1, le=MAX_RUNS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)


class SimulationStatus(BaseModel):
    id: str
    version_id: int
    scenario: str
    status: JobStatus
    done_runs: int
    total_runs: int
    trial: str | None = Field(default=None, description="the recorded trial under the "
                              "company's export pseudonym")
    trial_id: int | None = Field(default=None, description="reviewers and admins only")
    error: str | None = None


def _status(request: Request, job: SimulationJob, user: User) -> SimulationStatus:
    """Engineers see the trial only as their company's export names it, never its raw id."""
    found = job.trial_id
    key = company_key(request.app.state.secret.encode(), job.organisation_id)
    return SimulationStatus(
        id=job.id, version_id=job.version_id, scenario=job.scenario, status=job.status,
        done_runs=job.done_runs, total_runs=job.runs, error=job.error,
        trial=None if found is None else pseudonym(str(found), key=key, kind="trial"),
        trial_id=found if user.role in STAFF else None)


@router.post("/versions/{version_id}/simulations", response_model=SimulationStatus,
             status_code=status.HTTP_202_ACCEPTED,
             summary="Queue a simulation trial of a version; 429 past the requester's limits "
                     "(owning engineer, reviewer, admin)")
def start(request: Request, version: VersionDep, body: SimulationRequest, session: SessionDep,
          settings: SettingsDep, user: SimulationUser) -> SimulationStatus:
    prototype = check_simulable(session, version)
    if user.role == Role.engineer:
        access.check_prototype_owner(user, prototype)
    scenario = scenario_named(body.scenario, allow_files=False)
    job = queue.enqueue(session=session, version=version, prototype=prototype,
                        scenario=scenario.name, runs=body.runs, seed=body.seed, by=user,
                        quotas=Quotas.from_settings(settings))
    request.app.state.simulation_workers.wake()
    return _status(request, job, user)


@router.get("/simulations/{job_id}", response_model=SimulationStatus,
            summary="Status and progress of a simulation (the requesting company's "
                    "engineers, reviewer, admin)")
def progress(request: Request, job_id: JobId, session: SessionDep,
             user: SimulationUser) -> SimulationStatus:
    return _status(request, queue.visible_job(session=session, job_id=job_id, by=user), user)


@router.delete("/simulations/{job_id}", response_model=SimulationStatus,
               summary="Cancel a simulation: a queued one never runs, a running one stops at "
                       "its next chunk and records nothing; 409 once its trial is recorded "
                       "(the requesting company's engineers, reviewer, admin)")
def cancel(request: Request, job_id: JobId, session: SessionDep,
           user: SimulationUser) -> SimulationStatus:
    return _status(request, queue.cancel(session=session, job_id=job_id, by=user), user)
