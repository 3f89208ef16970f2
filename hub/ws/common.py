"""What every websocket endpoint shares: who is calling, and how a refusal is recorded.

Browsers cannot send headers on a websocket, so the bearer token may also come as the `token`
query parameter; each endpoint's `access` states who may connect."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect, status
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.types import Message

from hub.deps import token_user
from hub.ws.registry import Stop
from sandbox import audit
from sandbox.audit import Actor
from sandbox.models import User


def access(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.access = rule  # type: ignore[attr-defined]
        return endpoint
    return mark


def socket_actor(websocket: WebSocket, role: str = "anonymous") -> Actor:
    return Actor(role=role, source=websocket.client.host if websocket.client else "",
                 request=f"WEBSOCKET {websocket.url.path}")


def _audit_refusal(websocket: WebSocket) -> None:
    try:
        with Session(websocket.app.state.engine) as session:
            audit.append(session, actor=socket_actor(websocket), action="refused",
                         outcome="1008")
            session.commit()
    except SQLAlchemyError:
        pass  # refused either way; nothing was released


async def refuse(websocket: WebSocket) -> None:
    """Close with policy violation, and record the refusal in the audit log."""
    await asyncio.to_thread(_audit_refusal, websocket)
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION)


def websocket_user(websocket: WebSocket) -> tuple[User, dict[str, Any]] | None:
    """The active user whose valid, unrevoked token the client presented, with the token's
    claims; None for anything else."""
    header = websocket.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() or websocket.query_params.get("token", "")
    if not token:
        return None
    with Session(websocket.app.state.engine) as session:
        return token_user(session, token, secret=websocket.app.state.secret)


async def messages(websocket: WebSocket, stop: Stop) -> AsyncIterator[Message]:
    """The client's messages (text or bytes), until it leaves or `stop` fires; then the
    socket is closed with the code and reason `stop` carries."""
    stopped = asyncio.ensure_future(stop.event.wait())
    receiving: asyncio.Future[Message] = asyncio.ensure_future(websocket.receive())
    try:
        while True:
            await asyncio.wait({receiving, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                await websocket.close(code=stop.code, reason=stop.reason)
                return
            message = receiving.result()
            if message["type"] == "websocket.disconnect":
                return
            yield message
            receiving = asyncio.ensure_future(websocket.receive())
    finally:
        _cancel(stopped, receiving)


async def forward(websocket: WebSocket, stop: Stop,
                  next_notice: Callable[[], Awaitable[dict[str, Any]]], *,
                  interval_s: float = 0.0) -> None:
    """Send each notice `next_notice` gives, at most one per `interval_s`, until the client
    leaves or `stop` fires. The socket is read all along, so a client that leaves is noticed at
    once, not when the next notice comes (maybe never) with its handler still held."""
    listening = asyncio.ensure_future(_drain(messages(websocket, stop)))
    try:
        while True:
            notice = asyncio.ensure_future(next_notice())
            await asyncio.wait({listening, notice}, return_when=asyncio.FIRST_COMPLETED)
            if not notice.done():
                return
            await websocket.send_json(notice.result())
            await asyncio.sleep(interval_s)
    except WebSocketDisconnect:
        return
    finally:
        _cancel(notice, listening)


async def _drain(received: AsyncIterator[Message]) -> None:
    async for _ in received:  # a feed's client has nothing to say; only its leaving matters
        pass


def _cancel(*tasks: asyncio.Future[Any]) -> None:
    # Not awaited: a handler being cancelled itself (server or test client closing) must leave
    # at once, without a second wait that a repeated cancellation would interrupt.
    for task in tasks:
        task.cancel()
        task.add_done_callback(_settled)


def _settled(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so that nothing is logged as never retrieved
