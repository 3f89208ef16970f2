"""A telemetry session's page: its series on one zoomable time axis, the track in local metres,
the flight summary, and the time range in view as a .tlog.

Who may open it and what they see are the API's rules (hub.api.telemetry), called, not copied:
a session another company's engineer or another unit's soldier may not read answers 404 there
and here, so its existence is not confirmed either.
"""

from functools import partial

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from hub.api.telemetry import Since, Until, read_session, telemetry_session, tlog_segment
from hub.deps import SessionDep, SettingsDep, audit_raw_read
from hub.flows.ingest import open_store
from hub.flows.live import first_fix, redacted_messages
from hub.pages import charts
from hub.pages.common import page
from hub.pages.session import PageAnyone
from hub.pages.telemetry_series import raw_release, session_series, zero_us
from sandbox import access
from sandbox.models import Id, TelemetrySession, Trial

router = APIRouter(include_in_schema=False)
FRAME_HEADERS = (None, "tlog")  # live links and .tlog files; onboard logs carry none


@router.get("/sessions/{session_id}")
def session_page(request: Request, session_id: Id, session: SessionDep, settings: SettingsDep,
                 user: PageAnyone) -> Response:
    row = telemetry_session(session_id, session, user)
    store = open_store(settings.storage(), row.id or 0)
    raw = access.sees_positions(user)
    if raw:
        audit_raw_read(session, f"telemetry_session:{row.id} page")
    release = raw_release if raw else partial(_released, request, session, row)
    series = session_series(store, row.counts, release, headers=row.log_format in FRAME_HEADERS)
    name = f"session-{row.id}"
    track = (charts.timed_track(*series.track, name=f"{name}-track", title=(
        "track, metres from the first fix" if raw else
        "track, metres from the trial's local origin (not the launch point)"))
        if series.track and series.track[0] else charts.notice(
        "No positions to draw: none logged, or none released yet (the trial has no site)."))
    start = first_fix({"GLOBAL_POSITION_INT": store.read("GLOBAL_POSITION_INT", columns=[
        "lat", "lon"])}) if raw and "GLOBAL_POSITION_INT" in row.counts else None
    return page(request, "telemetry.html", user, row=row, raw=raw, first_fix=start,
                index=read_session(request, row, session, settings, user),
                series=charts.time_series(series.panels, name=f"{name}-series"), track=track,
                duration=series.duration_s, trimmable=store.start_us() is not None)


@router.get("/sessions/{session_id}/segment.tlog")
def segment(request: Request, session_id: Id, session: SessionDep, settings: SettingsDep,
            user: PageAnyone, since: Since = None, until: Until = None) -> StreamingResponse:
    """The API's .tlog of a time range, for the page's cookie (the API takes a bearer token).
    since and until count from the page's time zero, kept on the server (it may be a clock)."""
    row = telemetry_session(session_id, session, user)
    store = open_store(settings.storage(), row.id or 0)
    zero, start = zero_us(store, row.counts), store.start_us()
    shift = (zero - start) / 1e6 if zero is not None and start is not None else 0.0
    return tlog_segment(request, row, session, settings, user,
                        None if since is None else since + shift,
                        None if until is None else until + shift)


def _released(request: Request, session: Session, row: TelemetrySession, name: str,
              table: pd.DataFrame) -> pd.DataFrame | None:
    """What the API releases of a table; the page's own seconds (`t`) go on beside it."""
    trial = session.get(Trial, row.trial_id)
    assert trial is not None  # telemetry_session found it
    return redacted_messages(session, request.app.state.secret, request.app.state.settings
                             .storage(), trial, name, table, start_us=None)
