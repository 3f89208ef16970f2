"""/ws/trials/{id}/events: the simulator event protocol, one JSON event a message."""

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlmodel import Session

from hub.flows.engagements import record_engagement
from hub.ws.common import access, refuse, socket_actor
from sandbox import keys
from sandbox.errors import DomainError
from sandbox.models import KeyAccess, Trial
from simulators.bridges.events import EventError, EventSession

router = APIRouter()


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
    actor = socket_actor(websocket, role="api_key")
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
                stored = await asyncio.to_thread(
                    record_engagement, engine=websocket.app.state.engine, trial_id=trial_id,
                    row=row, actor=actor, feed=websocket.app.state.feed)
            except (DomainError, ValidationError) as error:
                await websocket.send_json({"type": "error", "detail": str(error)})
                continue
            await websocket.send_json({"type": "recorded", "id": stored})
    except (WebSocketDisconnect, KeyError):
        return
