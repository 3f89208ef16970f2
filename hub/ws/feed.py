"""/ws/feed: engineers hear that new feedback exists for their own prototypes."""

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from hub.ws.common import access, refuse, websocket_user
from sandbox.models import Role

router = APIRouter()


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
