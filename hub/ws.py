"""Websocket endpoints. Browsers cannot send headers on a websocket, so the bearer token may
also come as the `token` query parameter; each endpoint's `access` states who may connect."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub import live
from hub.deps import token_user
from hub.ingest import store_batch, token_matches
from sandbox import audit, keys, service
from sandbox.access import can_see_trial
from sandbox.audit import Actor
from sandbox.errors import DomainError
from sandbox.models import EngagementCreate, KeyAccess, Role, TelemetrySession, Trial, User
from sandbox.money import to_eur
from simulators.bridges.events import EventError, EventSession
from telemetry.decode import decode

router = APIRouter()


def access(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.access = rule  # type: ignore[attr-defined]
        return endpoint
    return mark


def _audit_refusal(websocket: WebSocket) -> None:
    actor = Actor(role="anonymous", source=websocket.client.host if websocket.client else "",
                  request=f"WEBSOCKET {websocket.url.path}")
    try:
        with Session(websocket.app.state.engine) as session:
            audit.append(session, actor=actor, action="refused", outcome="1008")
            session.commit()
    except SQLAlchemyError:
        pass  # refused either way; nothing was released


async def refuse(websocket: WebSocket) -> None:
    """Close with policy violation, and record the refusal in the audit log."""
    await asyncio.to_thread(_audit_refusal, websocket)
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION)


def websocket_user(websocket: WebSocket) -> User | None:
    """The active user whose valid, unrevoked token the client presented, or None."""
    header = websocket.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() or websocket.query_params.get("token", "")
    if not token:
        return None
    with Session(websocket.app.state.engine) as session:
        found = token_user(session, token, secret=websocket.app.state.secret)
        return found[0] if found else None


@router.websocket("/ws/feed")
@access("engineer: notices about their own company's prototypes only")
async def feed(websocket: WebSocket) -> None:
    user = await asyncio.to_thread(websocket_user, websocket)
    if user is None or user.role != Role.engineer or user.organisation_id is None:
        await refuse(websocket)
        return
    await websocket.accept()
    hub_feed = websocket.app.state.feed
    queue = hub_feed.subscribe(user.organisation_id)
    try:
        while True:
            await websocket.send_json(await queue.get())
    except WebSocketDisconnect:
        pass
    finally:
        hub_feed.unsubscribe(user.organisation_id, queue)


def _telemetry_row(websocket: WebSocket, session_id: int) -> TelemetrySession | None:
    token = websocket.query_params.get("token", "")
    with Session(websocket.app.state.engine) as session:
        row = session.get(TelemetrySession, session_id)
        return row if row is not None and token_matches(row, token) else None


@router.websocket("/ws/telemetry/{session_id}")
@access("a device holding the telemetry session's token (query parameter `token`)")
async def telemetry_ingest(websocket: WebSocket, session_id: int) -> None:
    """Each binary message: an 8-byte big-endian batch number, then whole MAVLink frames.

    Answers {"batch", "stored", "duplicate", "messages"} once the batch is durably stored;
    a client resends unacknowledged batches after a reconnect and nothing is stored twice.
    """
    row = await asyncio.to_thread(_telemetry_row, websocket, session_id)
    if row is None:
        await refuse(websocket)
        return
    await websocket.accept()
    settings = websocket.app.state.settings
    origin = await asyncio.to_thread(live.origin_of, websocket.app, row.trial_id)
    try:
        while True:
            data = await websocket.receive_bytes()
            if len(data) > settings.max_ws_message_bytes:
                await websocket.close(code=status.WS_1009_MESSAGE_TOO_BIG,
                                      reason=f"messages up to {settings.max_ws_message_bytes} "
                                             "bytes")
                return
            batch = int.from_bytes(data[:8], "big") if len(data) >= 8 else 0
            if batch < 1:
                await websocket.send_json({"error": "each message starts with an 8-byte "
                                                    "big-endian batch number from 1"})
                continue
            # Stored in order, one batch at a time: a fast sender waits for the disk (TCP
            # back-pressure) instead of filling memory.
            decoded = await asyncio.to_thread(decode, data[8:])
            result = await asyncio.to_thread(
                store_batch, engine=websocket.app.state.engine, data_dir=settings.data_dir,
                session_id=session_id, frames=decoded.frames, batch=batch, stats=decoded.stats)
            await websocket.send_json({"batch": batch, "stored": result.stored,
                                       "duplicate": result.duplicate})
            live.publish(websocket.app, row.trial_id, origin, session_id, decoded.frames)
    except (WebSocketDisconnect, KeyError):
        return


def _key_trial(websocket: WebSocket, trial_id: int) -> Trial | None:
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("key", "")
    with Session(websocket.app.state.engine) as session:
        trial = session.get(Trial, trial_id)
        if trial is None or not key:
            return None
        try:
            keys.key_for_trial(session=session, key=key, trial=trial, needs=KeyAccess.write)
        except DomainError:
            return None
        return trial


def _record(websocket: WebSocket, trial: Trial, row: dict[str, Any]) -> int:
    """One engagement from a simulator, written and announced to the owner's live feed."""
    engagement = EngagementCreate(
        threat_kind=row["threat_kind"], threat_cost_eur=to_eur(row["threat_cost_cents"]),
        interceptors_used=row["interceptors_used"], outcome=row["outcome"],
        time_to_intercept_s=row["time_to_intercept_s"],
        operating_cost_eur=None if row["operating_cost_cents"] is None
        else to_eur(row["operating_cost_cents"]))
    with Session(websocket.app.state.engine) as session:
        audit.audit_writes(session, Actor(role="api_key", request=websocket.url.path,
                                          source=websocket.client.host
                                          if websocket.client else ""))
        [stored] = service.add_engagements(session=session, trial=trial,
                                           engagements_in=[engagement])
        subject = service.trial_subject(session=session, trial=trial)
        websocket.app.state.feed.publish(subject.organisation_id, {
            "event": "engagements", "count": 1, "outcomes": {row["outcome"]: 1},
            "prototype_id": subject.prototype_id, "version_id": subject.version_id,
            "trial_kind": str(trial.kind)})
        return stored.id or 0


@router.websocket("/ws/trials/{trial_id}/events")
@access("a simulator bridge holding a write API key for the trial or its unit")
async def trial_events(websocket: WebSocket, trial_id: int) -> None:
    """The simulator event protocol (simulators.bridges.events), one JSON event a message."""
    trial = await asyncio.to_thread(_key_trial, websocket, trial_id)
    if trial is None:
        await refuse(websocket)
        return
    await websocket.accept()
    state = EventSession()
    try:
        while True:
            text = await websocket.receive_text()
            try:
                if len(text) > 10_000:
                    raise EventError("events are at most 10,000 characters")
                row = state.handle(json.loads(text))
            except (EventError, json.JSONDecodeError) as error:
                await websocket.send_json({"type": "error", "detail": str(error)})
                continue
            if row is None:
                await websocket.send_json({"type": "accepted"})
                continue
            try:
                stored = await asyncio.to_thread(_record, websocket, trial, row)
            except (DomainError, ValidationError) as error:
                await websocket.send_json({"type": "error", "detail": str(error)})
                continue
            await websocket.send_json({"type": "recorded", "id": stored})
    except (WebSocketDisconnect, KeyError):
        return


def _live_viewer(websocket: WebSocket, trial_id: int) -> bool:
    user = websocket_user(websocket)
    with Session(websocket.app.state.engine) as session:
        trial = session.get(Trial, trial_id)
        return user is not None and trial is not None and can_see_trial(user, trial)


@router.websocket("/ws/trials/{trial_id}/live")
@access("soldier of the trial's unit, reviewer, admin (token as for the API)")
async def trial_live(websocket: WebSocket, trial_id: int) -> None:
    """Latest position (local metres) and attitude, at most ten times a second."""
    if not await asyncio.to_thread(_live_viewer, websocket, trial_id):
        await refuse(websocket)
        return
    await websocket.accept()
    queue = websocket.app.state.live.subscribe(trial_id)
    try:
        while True:
            notice = await queue.get()
            while not queue.empty():  # a slow dashboard sees the newest, not a backlog
                notice = queue.get_nowait()
            await websocket.send_json(notice)
            await asyncio.sleep(live.MIN_INTERVAL_S)
    except WebSocketDisconnect:
        pass
    finally:
        websocket.app.state.live.unsubscribe(trial_id, queue)
