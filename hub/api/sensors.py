"""Sensor and jammer trials: sensor sessions, COURAGEOUS imports, the detection score, jammer
activations and their effect. Who may call: as for raw trials (soldiers of the trial's unit,
reviewers; admins read); engineers get these figures only in their anonymised feedback."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status

from hub.deps import SessionDep, SettingsDep, TrialDep, TrialReader, TrialWriter, audit_raw_read
from hub.flows import jammers, sensors
from sandbox import access
from sandbox.courageous import CourageousDocument
from sandbox.models import (
    EwActivation,
    EwActivationCreate,
    EwActivationPublic,
    Id,
    SensorSession,
    SensorSessionCreate,
    SensorSessionPublic,
    User,
)

router = APIRouter(prefix="/trials", tags=["sensors"])


def _hidden(user: User) -> dict[str, None]:
    return {} if access.sees_positions(user) else {"lat": None, "lon": None, "alt_m": None}


def _public(row: SensorSession, user: User) -> SensorSessionPublic:
    return SensorSessionPublic.model_validate(row, update=_hidden(user))


def _activation(row: EwActivation, user: User) -> EwActivationPublic:
    return EwActivationPublic.model_validate(row, update=_hidden(user))


@router.post("/{trial_id}/sensor-sessions", response_model=SensorSessionPublic,
             status_code=status.HTTP_201_CREATED,
             summary="Open a sensor session for a SAPIENT node (soldier of the unit; reviewer)")
def open_session(trial: TrialDep, body: SensorSessionCreate, session: SessionDep,
                 user: TrialWriter) -> SensorSessionPublic:
    return _public(sensors.open_sensor_session(session=session, trial=trial, body=body), user)


@router.get("/{trial_id}/sensor-sessions", response_model=list[SensorSessionPublic],
            summary="Sensor sessions of a trial (soldier of the unit; reviewer, admin)")
def list_sessions(trial: TrialDep, session: SessionDep,
                  user: TrialReader) -> list[SensorSessionPublic]:
    rows = sensors.trial_sensors(session=session, trial=trial)
    if access.sees_positions(user):
        audit_raw_read(session, f"trial:{trial.id} sensor sessions")
    return [_public(row, user) for row in rows]


@router.post("/{trial_id}/courageous", status_code=status.HTTP_201_CREATED,
             summary="Import a COURAGEOUS document as a sensor session (soldier of the unit; "
                     "reviewer)")
def import_courageous(request: Request, trial: TrialDep,
                      document: Annotated[CourageousDocument, Body()], session: SessionDep,
                      settings: SettingsDep, _user: TrialWriter) -> dict[str, int]:
    row, count = sensors.import_courageous(
        session=session, engine=request.app.state.engine, storage=settings.storage(),
        trial=trial, document=document)
    sensors.refresh_summary(engine=request.app.state.engine, storage=settings.storage(),
                            sensor_session_id=row.id or 0, geoid_grid=settings.geoid_grid)
    return {"sensor_session_id": row.id or 0, "detections": count}


@router.get("/{trial_id}/detection",
            summary="Detection score of a sensor against the targets' telemetry (soldier of "
                    "the unit; reviewer, admin)")
def detection(trial: TrialDep, session: SessionDep, settings: SettingsDep, _user: TrialReader,
              sensor_session: Annotated[Id | None, Query()] = None) -> dict[str, Any]:
    sensor = sensors.trial_sensor(session=session, trial=trial,
                                  sensor_session_id=sensor_session)
    scored = sensors.detection_score(session=session, storage=settings.storage(), trial=trial,
                                     sensor=sensor, geoid_grid=settings.geoid_grid)
    return {"sensor_session_id": scored.sensor_session_id, **asdict(scored.score)}


@router.post("/{trial_id}/ew-activations", response_model=list[EwActivationPublic],
             status_code=status.HTTP_201_CREATED,
             summary="Record when an EW system was on, a JSON list (soldier of the unit; "
                     "reviewer)")
def add_activations(
        trial: TrialDep, session: SessionDep, user: TrialWriter,
        activations_in: Annotated[list[EwActivationCreate], Body(min_length=1, max_length=1000)],
) -> list[EwActivationPublic]:
    rows = jammers.add_activations(session=session, trial=trial, activations_in=activations_in)
    return [_activation(row, user) for row in rows]


@router.get("/{trial_id}/ew-activations", response_model=list[EwActivationPublic],
            summary="When the EW system was on (soldier of the unit; reviewer, admin)")
def list_activations(trial: TrialDep, session: SessionDep,
                     user: TrialReader) -> list[EwActivationPublic]:
    return [_activation(row, user)
            for row in jammers.list_activations(session=session, trial=trial)]


@router.get("/{trial_id}/ew-effect",
            summary="The EW system's effect on the targets' telemetry, on against off "
                    "(soldier of the unit; reviewer, admin)")
def ew_effect(trial: TrialDep, session: SessionDep, settings: SettingsDep,
              _user: TrialReader) -> dict[str, Any]:
    return asdict(jammers.trial_ew_effect(session=session, storage=settings.storage(),
                                          trial=trial))
