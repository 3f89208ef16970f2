"""Websocket endpoints. Browsers cannot send headers on a websocket, so the bearer token may
also come as the `token` query parameter; each endpoint's `access` states who may connect."""

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from sqlmodel import Session

from hub.auth import InvalidToken, read_token
from sandbox import accounts
from sandbox.models import Role, User

router = APIRouter()


def access(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.access = rule  # type: ignore[attr-defined]
        return endpoint
    return mark


def websocket_user(websocket: WebSocket) -> User | None:
    """The active user whose valid, unrevoked token the client presented, or None."""
    header = websocket.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() or websocket.query_params.get("token", "")
    if not token:
        return None
    try:
        claims = read_token(token, secret=websocket.app.state.secret)
    except InvalidToken:
        return None
    with Session(websocket.app.state.engine) as session:
        if accounts.token_revoked(session=session, jti=claims["jti"]):
            return None
        user = session.get(User, int(claims["sub"]))
        return user if user is not None and user.is_active else None


@router.websocket("/ws/feed")
@access("engineer: notices about their own company's prototypes only")
async def feed(websocket: WebSocket) -> None:
    user = await asyncio.to_thread(websocket_user, websocket)
    if user is None or user.role != Role.engineer or user.organisation_id is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
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
