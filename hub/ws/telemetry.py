"""/ws/telemetry/{session}: a device streams MAVLink in numbered batches, acknowledged once
durably stored."""

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from sqlmodel import Session

from hub.flows import live
from hub.flows.ingest import store_batch, token_matches
from hub.ws.common import access, refuse
from sandbox.models import TelemetrySession
from telemetry.decode import decode

router = APIRouter()


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
        await refuse(websocket)
        return
    await websocket.accept()
    state = websocket.app.state
    settings = state.settings
    origin = await asyncio.to_thread(live.origin_of, state.engine, state.secret, row.trial_id)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                await websocket.send_json({"error": "send binary messages: an 8-byte batch "
                                                    "number, then whole MAVLink frames"})
                continue
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
                store_batch, engine=state.engine, storage=settings.storage(),
                session_id=session_id, frames=decoded.frames, batch=batch, stats=decoded.stats)
            await websocket.send_json({"batch": batch, "stored": result.stored,
                                       "duplicate": result.duplicate})
            live.publish(state.live, row.trial_id, origin, session_id, decoded.frames)
    except (WebSocketDisconnect, KeyError):
        return
