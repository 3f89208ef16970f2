"""/ws/trials/{id}/events: the simulator event protocol, one JSON event a message."""

import asyncio
import json
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlmodel import Session

from hub.errors import encodable
from hub.flows.engagements import record_engagement
from hub.ws.common import access, messages, refuse, socket_actor
from hub.ws.registry import key_subject
from sandbox import keys
from sandbox.audit import Actor
from sandbox.errors import DomainError
from sandbox.models import ApiKey, KeyAccess, Trial
from simulators.bridges.events import EventError, EventSession

router = APIRouter()
MAX_EVENT_CHARS = 10_000


def _trial_key(websocket: WebSocket, trial_id: int) -> ApiKey | None:
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("key", "")
    with Session(websocket.app.state.engine) as session:
        trial = session.get(Trial, trial_id)
        if trial is None or not key:
            return None
        try:
            return keys.key_for_trial(session=session, key=key, trial=trial,
                                      needs=KeyAccess.write)
        except DomainError:
            return None


def parse_event(message: dict[str, Any]) -> Any:
    """The JSON value of one event message; EventError for anything else (binary, too long,
    not JSON, nested past what the parser can follow)."""
    text = message.get("text")
    if text is None:
        raise EventError("events are JSON text messages, not binary")
    if len(text) > MAX_EVENT_CHARS:
        raise EventError(f"events are at most {MAX_EVENT_CHARS:,} characters")
    try:
        return json.loads(text)
    except RecursionError:
        raise EventError("an event is a flat JSON object; this one is nested too deep") from None
    except ValueError as error:  # not JSON, or a number too long to read
        raise EventError(f"not JSON: {error}") from None


@router.websocket("/ws/trials/{trial_id}/events")
@access("a simulator bridge holding a write API key for the trial or its unit")
async def trial_events(websocket: WebSocket, trial_id: int) -> None:
    """The simulator event protocol (simulators.bridges.events), one JSON event a message."""
    key = await asyncio.to_thread(_trial_key, websocket, trial_id)
    if key is None:
        await refuse(websocket)
        return
    await websocket.accept()
    state = EventSession()
    actor = socket_actor(websocket, role="api_key")
    try:
        with websocket.app.state.sockets.opened(key_subject(key.id or 0)) as stop:
            async with aclosing(messages(websocket, stop)) as received:
                async for message in received:
                    await websocket.send_json(await _answer(websocket, trial_id, state, actor,
                                                            message))
    except WebSocketDisconnect:
        return


async def _answer(websocket: WebSocket, trial_id: int, state: EventSession, actor: Actor,
                  message: dict[str, Any]) -> dict[str, Any]:
    """Apply one message; the answer says accepted, recorded or what was wrong."""
    try:
        row = state.handle(parse_event(message))
        if row is None:
            return {"type": "accepted"}
        stored = await asyncio.to_thread(
            record_engagement, engine=websocket.app.state.engine, trial_id=trial_id,
            row=row, actor=actor, feed=websocket.app.state.feed)
    except (EventError, DomainError, ValidationError) as error:
        return {"type": "error", "detail": encodable(str(error))}
    return {"type": "recorded", "id": stored}
