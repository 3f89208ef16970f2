"""Listen for DIS on UDP. Detonations of the exercise become engagements at once; its Entity
State PDUs become track points handed over in batches; every other well-formed PDU is counted
as ignored, by type; broken bytes are counted as malformed and skipped, and the listener keeps
listening. What happens to engagements and tracks is the caller's (callbacks): this module
knows nothing of the hub."""

import asyncio
import contextlib
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulators.bridges.dis import (
    PDU,
    DetonationPDU,
    DISError,
    EntityStatePDU,
    ExpendableDescriptor,
    FirePDU,
    engagement_of,
    parse_pdu,
    pdu_name,
    split_datagram,
)

MAX_FIRES = 10_000  # fire events remembered while their detonation is awaited
TRACK_FLUSH_S = 5.0  # Entity State PDUs come at up to tens a second per entity: batch them

Sender = tuple[str, int] | None


@dataclass(frozen=True)
class TrackPoint:
    received_us: int  # UTC microseconds when the datagram arrived
    state: EntityStatePDU


@dataclass
class DISBridge:
    """One exercise's PDUs: Fire and Detonation paired by event id, Entity States batched."""

    exercise_id: int
    threat_kind: str
    threat_cost_cents: int
    record: Callable[[dict[str, Any]], object]
    tracks: Callable[[list[TrackPoint]], object] | None = None
    on_malformed: Callable[[Sender, DISError], object] | None = None
    fires: OrderedDict[tuple[int, int, int], FirePDU] = field(default_factory=OrderedDict)
    pending: list[TrackPoint] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    other_exercises: int = 0
    recorded: int = 0
    track_points: int = 0

    def datagram(self, data: bytes, sender: Sender = None, *,
                 received_us: int | None = None) -> None:
        """Use every PDU of one datagram; a broken one is counted and the rest still used."""
        received_us = time.time_ns() // 1000 if received_us is None else received_us
        try:
            parts = split_datagram(data)
        except DISError as error:
            self._broken(sender, error)
            return
        for part in parts:
            try:
                pdu = parse_pdu(part)
            except DISError as error:
                self._broken(sender, error)
                continue
            self._use(pdu, received_us)

    def _broken(self, sender: Sender, error: DISError) -> None:
        self.malformed += 1
        if self.on_malformed is not None:
            self.on_malformed(sender, error)

    def _use(self, pdu: PDU, received_us: int) -> None:
        if pdu.header.exercise_id != self.exercise_id:
            self.other_exercises += 1
        elif isinstance(pdu, FirePDU):
            self._fire(pdu)
        elif isinstance(pdu, DetonationPDU):
            self._detonation(pdu)
        elif isinstance(pdu, EntityStatePDU) and self.tracks is not None:
            self.pending.append(TrackPoint(received_us, pdu))
        else:
            self.ignored[pdu_name(pdu.header.pdu_type)] += 1

    def _fire(self, fire: FirePDU) -> None:
        if isinstance(fire.descriptor, ExpendableDescriptor):
            self.ignored["Fire (expendable)"] += 1
            return
        self.fires[fire.event] = fire
        while len(self.fires) > MAX_FIRES:
            self.fires.popitem(last=False)

    def _detonation(self, detonation: DetonationPDU) -> None:
        fire = self.fires.pop(detonation.event, None)
        row = engagement_of(detonation, fire, threat_kind=self.threat_kind,
                            threat_cost_cents=self.threat_cost_cents)
        if row is None:
            self.ignored["Detonation (expendable)"] += 1
            return
        self.record(row)
        self.recorded += 1

    def take_tracks(self) -> list[TrackPoint]:
        batch, self.pending = self.pending, []
        return batch


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, bridge: DISBridge) -> None:
        self.bridge = bridge

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.bridge.datagram(data, addr)


async def listen(bridge: DISBridge, host: str, port: int) -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(bridge),
                                                       local_addr=(host, port))
    return transport


async def flush_tracks(bridge: DISBridge) -> None:
    """Hand the pending track points to the callback, off the event loop (it writes files)
    so datagrams keep arriving meanwhile."""
    batch = bridge.take_tracks()
    if batch and bridge.tracks is not None:
        await asyncio.to_thread(bridge.tracks, batch)
        bridge.track_points += len(batch)


async def serve(bridge: DISBridge, host: str, port: int, *, stop: asyncio.Event,
                flush_s: float = TRACK_FLUSH_S,
                ready: Callable[[tuple[str, int]], object] | None = None) -> None:
    """Listen until `stop` is set, flushing tracks every `flush_s`; then stop listening and
    flush what is left. Flushes run one at a time, so a session's batches stay in order."""
    transport = await listen(bridge, host, port)
    if ready is not None:
        ready(transport.get_extra_info("sockname")[:2])
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), flush_s)
            await flush_tracks(bridge)
    finally:
        transport.close()
        await flush_tracks(bridge)
