"""What every websocket endpoint shares: who is calling, and how a refusal is recorded.

Browsers cannot send headers on a websocket, so the bearer token may also come as the `token`
query parameter; each endpoint's `access` states who may connect."""

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, status
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.deps import token_user
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


def websocket_user(websocket: WebSocket) -> User | None:
    """The active user whose valid, unrevoked token the client presented, or None."""
    header = websocket.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() or websocket.query_params.get("token", "")
    if not token:
        return None
    with Session(websocket.app.state.engine) as session:
        found = token_user(session, token, secret=websocket.app.state.secret)
        return found[0] if found else None
