"""Telemetry sessions of a trial: open one for a device, upload a log file, read messages.

Raw positions leave only to reviewers and admins; soldiers of the unit and the owning company's
engineers get the allow-listed fields with positions as metres from the trial's secret origin.
"""

import re
from collections.abc import Iterator
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from hub.api.tables import table_response
from hub.deps import AnyUser, SessionDep, SettingsDep, TrialDep, TrialWriter, audit_raw_read
from hub.flows.feedback import engineer_session_fields
from hub.flows.ingest import Staging, commit_staged, new_token, open_store, stage_file, sweep
from hub.flows.live import redacted_messages
from sandbox import access, service
from sandbox.errors import Forbidden, Invalid, NotFound
from sandbox.models import (
    Id,
    Role,
    TelemetrySession,
    TelemetrySessionCreate,
    TelemetrySessionCreated,
    TelemetrySessionPublic,
    Trial,
    User,
)
from telemetry.redact import ALLOWLIST
from telemetry.segment import local_tables, mavlink_names, tlog_bytes
from telemetry.store import NoTime, SessionStore
from telemetry.summary import flight_summary

router = APIRouter(tags=["telemetry"])
MESSAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,80}$")  # MAVLink, DF_GPS, ULG_vehicle_status


@router.post("/trials/{trial_id}/telemetry-sessions", response_model=TelemetrySessionCreated,
             status_code=status.HTTP_201_CREATED,
             summary="Open a telemetry session for a device (soldier of the unit; reviewer)")
def open_session(trial: TrialDep, body: TelemetrySessionCreate, session: SessionDep,
                 _user: TrialWriter) -> TelemetrySessionCreated:
    token, digest = new_token()
    row = TelemetrySession(trial_id=trial.id or 0, sysid=body.sysid, source="device",
                           token_hash=digest)
    session.add(row)
    session.commit()
    session.refresh(row)
    return TelemetrySessionCreated.model_validate(row, update={"token": token})


@router.post("/trials/{trial_id}/telemetry", response_model=TelemetrySessionPublic,
             status_code=status.HTTP_201_CREATED,
             summary="Upload a log file (.tlog, DataFlash .bin, PX4 .ulg) as the request body "
                     "(soldier of the unit; reviewer)")
async def upload(request: Request, trial: TrialDep, session: SessionDep,
                 settings: SettingsDep, _user: TrialWriter) -> TelemetrySession:
    engine = request.app.state.engine
    await run_in_threadpool(sweep, engine=engine, data_dir=settings.data_dir,
                            storage=settings.storage())
    with Staging(settings.data_dir) as staging:
        size = 0
        with staging.spool.open("wb") as spool:
            async for chunk in request.stream():  # to disk as it arrives; the limit is
                spool.write(chunk)                  # enforced upstream, byte by byte
                size += len(chunk)
        if size == 0:
            raise Invalid("body: the upload is empty; send the log file as the request body")
        staged = await run_in_threadpool(stage_file, staging=staging, path=staging.spool)
        return await run_in_threadpool(commit_staged, session=session,
                                       storage=settings.storage(), staging=staging,
                                       staged=staged, trial_id=trial.id or 0)


def telemetry_session(session_id: Id, session: SessionDep, user: AnyUser) -> TelemetrySession:
    """The session, if its trial is the caller's to see (engineers: their own prototypes)."""
    row = session.get(TelemetrySession, session_id)
    trial = session.get(Trial, row.trial_id) if row else None
    if (row is None or row.pending_until is not None or trial is None
            or not _may_read(session, user, trial)):
        raise NotFound(f"telemetry session {session_id} not found")
    return row


def _may_read(session: SessionDep, user: User, trial: Trial) -> bool:
    if user.role == Role.engineer:
        subject = service.trial_subject(session=session, trial=trial)
        return subject.organisation_id == user.organisation_id
    return access.can_see_trial(user, trial)


TelemetrySessionDep = Annotated[TelemetrySession, Depends(telemetry_session)]


@router.get("/telemetry-sessions/{session_id}",
            summary="Index and flight summary of a session (trial readers; owning engineers "
                    "get no absolute positions)")
def read_session(request: Request, row: TelemetrySessionDep, session: SessionDep,
                 settings: SettingsDep, user: AnyUser) -> dict[str, object]:
    store = open_store(settings.storage(), row.id or 0)
    frames = {name: store.read(name) for name in ("GLOBAL_POSITION_INT", "GPS_RAW_INT",
                                                   "VFR_HUD", "SYS_STATUS", "BATTERY_STATUS",
                                                   "HEARTBEAT") if name in row.counts}
    summary = flight_summary(frames)
    public = TelemetrySessionPublic.model_validate(row).model_dump(mode="json")
    if user.role == Role.engineer:  # the export's trial pseudonym; no clock time
        public = engineer_session_fields(session, public, request.app.state.secret, row)
    return {**public, "summary": {
        "duration_s": summary.duration_s, "distance_flown_m": summary.distance_flown_m,
        "max_altitude_m": summary.max_altitude_m,
        "max_ground_speed_mps": summary.max_ground_speed_mps,
        "battery_used_pct": summary.battery_used_pct,
        "battery_used_mah": summary.battery_used_mah,
        "link_loss_gaps": summary.link_loss_gaps, "gps_fix_share": summary.gps_fix_share,
        "min_satellites": summary.min_satellites}}


Since = Annotated[float | None, Query(ge=0, le=10**7, description=(
    "seconds from the session's start (its first logged message): first second to include"))]
Until = Annotated[float | None, Query(ge=0, le=10**7, description=(
    "seconds from the session's start: end of the range (excluded)"))]


@router.get("/telemetry-sessions/{session_id}/messages/{name}",
            summary="Messages of one type, or of a time range (reviewer, admin: raw; soldier of "
                    "the unit, owning engineer: allow-listed fields, local coordinates)")
def messages(request: Request, row: TelemetrySessionDep, name: str, session: SessionDep,
             settings: SettingsDep, user: AnyUser,
             format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
             every: Annotated[int, Query(ge=1, le=100_000)] = 1,
             since: Since = None, until: Until = None) -> Response:
    if not MESSAGE_NAME.match(name):
        raise Invalid("name: a message name such as ATTITUDE, DF_GPS or ULG_battery_status")
    store = open_store(settings.storage(), row.id or 0)
    if name not in row.counts:
        raise NotFound(f"no {name} messages in telemetry session {row.id}")
    table = _read(store, name, every=every, window_us=_window(store, row, since, until))
    if access.sees_positions(user):
        audit_raw_read(session, f"telemetry_session:{row.id} {name}")
    else:
        table = _redacted(request, session, row, name, table, start_us=store.start_us())
    return table_response(table, format, name)


@router.get("/telemetry-sessions/{session_id}/tlog",
            summary="The session's MAVLink messages, or a time range of them, as a .tlog "
                    "(reviewer, admin: raw; soldier of the unit, owning engineer: allow-listed "
                    "fields, positions as metres around 0° N 0° E, times from the epoch)")
def tlog_segment(request: Request, row: TelemetrySessionDep, session: SessionDep,
                 settings: SettingsDep, user: AnyUser, since: Since = None,
                 until: Until = None) -> StreamingResponse:
    store = open_store(settings.storage(), row.id or 0)
    window, start = _window(store, row, since, until), store.start_us()
    if start is None:
        raise Invalid(f"telemetry session {row.id} carries no log time (a live stream): a .tlog "
                      "needs one; read its messages instead")
    raw = access.sees_positions(user)
    names = [name for name in row.counts if name in mavlink_names()
             and (raw or name in ALLOWLIST)]
    if raw:
        audit_raw_read(session, f"telemetry_session:{row.id} tlog")
    pieces = _segment(request, store, row.trial_id, names, window, start_us=start, raw=raw)
    span = f"-{since or 0:g}-{until:g}s" if until is not None else f"-{since or 0:g}s-"
    return StreamingResponse(pieces, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="session-{row.id}{span}.tlog"'})


def _segment(request: Request, store: SessionStore, trial_id: int, names: list[str],
             window: tuple[int, int] | None, *, start_us: int, raw: bool) -> Iterator[bytes]:
    """One batch at a time: a file's batches follow its bytes, so the pieces stay in time order
    and no request holds a whole session."""
    secret, storage = request.app.state.secret, request.app.state.settings.storage()
    for batch in store.batches():
        tables = {name: table for name in names
                  if len(table := store.read(name, window_us=window, batches=[batch]))}
        if raw:
            yield tlog_bytes(tables)
            continue
        with Session(request.app.state.engine) as session:
            trial = session.get(Trial, trial_id)
            released = {name: redacted_messages(session, secret, storage, trial, name, table,
                                                start_us=start_us)
                        for name, table in tables.items()} if trial is not None else {}
        yield tlog_bytes(local_tables({k: v for k, v in released.items() if v is not None}))


def _window(store: SessionStore, row: TelemetrySession, since: float | None,
            until: float | None) -> tuple[int, int] | None:
    """[since, until) in seconds from the session's start, as log times (µs)."""
    if since is None and until is None:
        return None
    if since is not None and until is not None and until <= since:
        raise Invalid("until: must come after since")
    start = store.start_us()
    if start is None:
        raise Invalid(f"since: telemetry session {row.id} carries no log time (a live stream), "
                      "so it cannot be trimmed; use every= to thin it")
    return (start + round((since or 0) * 1e6),
            start + round(until * 1e6) if until is not None else 2**63 - 1)


def _read(store: SessionStore, name: str, *, every: int = 1,
          window_us: tuple[int, int] | None) -> pd.DataFrame:
    try:
        return store.read(name, every=every, window_us=window_us)
    except NoTime as error:
        raise Invalid(f"since: {error}; leave out since and until") from error


def _redacted(request: Request, session: SessionDep, row: TelemetrySession, name: str,
              table: pd.DataFrame, *, start_us: int | None) -> pd.DataFrame:
    trial = session.get(Trial, row.trial_id)
    assert trial is not None
    redacted = redacted_messages(session, request.app.state.secret,
                                 request.app.state.settings.storage(), trial, name, table,
                                 start_us=start_us)
    if redacted is None:
        raise Forbidden(f"{name} is not among the telemetry fields released outside the "
                        "task force")
    return redacted
