"""/ws/trials/{id}/live: the latest position (local metres) and attitude, at most 10 Hz."""

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from hub.flows import live
from hub.ws.common import access, refuse, websocket_user
from sandbox.access import can_see_trial
from sandbox.models import Trial

router = APIRouter()


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
