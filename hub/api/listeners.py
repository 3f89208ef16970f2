"""MAVLink listener status: what arrives, what is lost where, which system ids nobody claims.

Reviewers and admins read it to see whether live telemetry is stored whole, and to bind a
soldier's telemetry session to a system id that is heard but unclaimed.
"""

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from hub.deps import ReviewerUser
from hub.listeners.mavlink import Router

router = APIRouter(tags=["listeners"])


class ListenerPublic(BaseModel):
    endpoint: str
    receive_buffer_bytes: int | None = Field(
        description="kernel receive buffer granted (Linux reports twice what it holds for "
                    "data); null for TCP")
    datagrams: int = Field(description="UDP datagrams received (TCP: reads)")
    bytes: int
    kernel_drops: int | None = Field(
        description="datagrams the kernel dropped on this socket (its buffer was full); null "
                    "where the platform does not say")
    backlog_drops: int = Field(description="datagrams refused because the hub's own queue "
                                           "was full")
    connections: int = Field(description="TCP connections accepted")


class UnmatchedSysid(BaseModel):
    sysid: int
    address: str = Field(description="the last sender address heard with it")
    listener: str
    first_seen: datetime
    last_seen: datetime
    messages: int = Field(description="messages dropped: no telemetry session claims them")


class ListenerStatus(BaseModel):
    listeners: list[ListenerPublic]
    messages_stored: int
    messages_not_stored: int = Field(description="messages a failed commit lost (logged)")
    rejects: dict[str, int] = Field(description="frames the decoder refused, by reason")
    link_lost: int = Field(description="frames lost on the link, from sequence numbers")
    unmatched_sysids: list[UnmatchedSysid]


def listener_status(mavlink: Router | None) -> ListenerStatus:
    """The counters of the running listeners (none when the hub listens for no MAVLink)."""
    if mavlink is None:
        return ListenerStatus(listeners=[], messages_stored=0, messages_not_stored=0,
                              rejects={}, link_lost=0, unmatched_sysids=[])
    rejects = mavlink.rejects
    return ListenerStatus(
        listeners=[ListenerPublic.model_validate(listener.counters, from_attributes=True)
                   for listener in mavlink.listeners],
        messages_stored=mavlink.stored, messages_not_stored=mavlink.unstored,
        rejects={"crc_failures": rejects.crc_failures, "unknown_ids": rejects.unknown_ids,
                 "incompatible_flags": rejects.incompatible_flags},
        link_lost=rejects.sequence_gaps,
        unmatched_sysids=[UnmatchedSysid.model_validate(seen, from_attributes=True)
                          for seen in sorted(mavlink.unmatched.values(),
                                             key=lambda seen: seen.sysid)])


@router.get("/listeners", response_model=ListenerStatus,
            summary="MAVLink listeners: endpoints, buffers, datagrams, kernel drops, decoder "
                    "rejects, unclaimed system ids (reviewer, admin)")
def read_listeners(request: Request, _user: ReviewerUser) -> ListenerStatus:
    return listener_status(getattr(request.app.state, "mavlink_router", None))
