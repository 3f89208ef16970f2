"""/ws/feed: engineers hear that new feedback exists for their own prototypes."""

import asyncio

from fastapi import APIRouter, WebSocket

from hub.ws.common import access, forward, refuse, websocket_user
from hub.ws.registry import token_subject, user_subject
from sandbox.models import Role

router = APIRouter()


@router.websocket("/ws/feed")
@access("engineer: notices about their own company's prototypes only")
async def feed(websocket: WebSocket) -> None:
    found = await asyncio.to_thread(websocket_user, websocket)
    user, claims = found if found else (None, {})
    if user is None or user.role != Role.engineer or user.organisation_id is None:
        await refuse(websocket)
        return
    hub_feed = websocket.app.state.feed
    queue = hub_feed.subscribe(user.organisation_id)  # first: an open feed misses nothing
    try:
        with websocket.app.state.sockets.opened(user_subject(user.id or 0),
                                                token_subject(claims["jti"])) as stop:
            await websocket.accept()
            await forward(websocket, stop, queue.get)
    finally:
        hub_feed.unsubscribe(user.organisation_id, queue)
