"""Websocket endpoints. Browsers cannot send headers on a websocket, so the bearer token may
also come as the `token` query parameter; each endpoint's `access` states who may connect."""

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from sqlmodel import Session

from hub.auth import InvalidToken, read_token
from hub.ingest import store_batch, token_matches
from sandbox import accounts
from sandbox.models import Role, TelemetrySession, User
from telemetry.decode import decode

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
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    await websocket.accept()
    settings = websocket.app.state.settings
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
    except (WebSocketDisconnect, KeyError):
        return
