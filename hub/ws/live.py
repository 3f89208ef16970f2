"""/ws/trials/{id}/live: the latest position (local metres) and attitude, at most 10 Hz."""

import asyncio
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlmodel import Session

from hub.flows import live
from hub.ws.common import access, forward, refuse, websocket_user
from hub.ws.registry import token_subject, user_subject
from sandbox.access import can_see_trial
from sandbox.models import Trial

router = APIRouter()


def _live_viewer(websocket: WebSocket, trial_id: int) -> tuple[int, str] | None:
    """(user id, token id) of a caller who may watch the trial, or None."""
    found = websocket_user(websocket)
    if found is None:
        return None
    user, claims = found
    with Session(websocket.app.state.engine) as session:
        trial = session.get(Trial, trial_id)
        seen = trial is not None and can_see_trial(user, trial)
    return (user.id or 0, claims["jti"]) if seen else None


@router.websocket("/ws/trials/{trial_id}/live")
@access("soldier of the trial's unit, reviewer, admin (token as for the API)")
async def trial_live(websocket: WebSocket, trial_id: int) -> None:
    """Latest position (local metres) and attitude, at most ten times a second."""
    viewer = await asyncio.to_thread(_live_viewer, websocket, trial_id)
    if viewer is None:
        await refuse(websocket)
        return
    queue = websocket.app.state.live.subscribe(trial_id)  # first: an open socket misses nothing

    async def newest() -> dict[str, Any]:
        notice = await queue.get()
        while not queue.empty():  # a slow dashboard sees the newest, not a backlog
            notice = queue.get_nowait()
        return notice  # type: ignore[no-any-return]

    try:
        with websocket.app.state.sockets.opened(user_subject(viewer[0]),
                                                token_subject(viewer[1])) as stop:
            await websocket.accept()
            await forward(websocket, stop, newest, interval_s=live.MIN_INTERVAL_S)
    finally:
        websocket.app.state.live.unsubscribe(trial_id, queue)
