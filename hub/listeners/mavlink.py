"""MAVLink over UDP/TCP into telemetry sessions, matched by the sender's system id.

The listeners only file raw bytes per peer (telemetry.receivers). Every FLUSH_S, or sooner when
TAKE_BYTES are waiting, the router takes them all, decodes each peer's bytes in one pass with
that peer's own StreamDecoder, splits the frames by system id and commits one batch per
telemetry session (store_batch: the Parquet commit is the truth). While a commit runs, new
datagrams keep arriving and simply make the next batch larger.

The sysid -> session map is cached: reloaded on a miss at most every MAP_MISS_S, and every
MAP_MAX_AGE_S anyway, so a newer session for a sysid takes its traffic over within about two
seconds. Frames no session claims wait until the map has been reloaded after they arrived (so
a session opened before its vehicle's traffic loses none of it); then they are counted per
sysid, logged (at most once a minute per sysid) and listed for admins and reviewers, so a
soldier's session can be bound to them.
"""

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hub.flows.ingest import store_batch
from sandbox.models import TelemetrySession
from sandbox.timeutil import utcnow
from telemetry.decode import TAKE_BYTES, DecodeStats, StreamDecoder
from telemetry.objects import Storage
from telemetry.receivers import (
    RECEIVE_BUFFER_BYTES,
    Endpoint,
    Inbox,
    Listener,
    Peer,
    PeerBytes,
    UDPListener,
    granted_receive_buffer,
    parse_endpoint,
    start,
)

FLUSH_S = 0.5
MAP_MISS_S = 1.0
MAP_MAX_AGE_S = 2.0
IDLE_S = 3.0  # a UDP peer silent this long has the frame held back for it released
FORGET_S = 600.0  # and silent this long, its decoder (and its sequence numbers) is forgotten
MAX_PEERS = 4096
UNMATCHED_LOG_S = 60.0
log = logging.getLogger(__name__)
Frames = dict[str, pd.DataFrame]


@dataclass
class Unmatched:
    """A system id heard that no telemetry session claims."""

    sysid: int
    address: str
    listener: str
    first_seen: datetime
    last_seen: datetime
    messages: int = 0
    logged_at: float = float("-inf")


@dataclass
class SessionBatch:
    """What one flush stores into one session, and the counters that go with it."""

    parts: list[Frames] = field(default_factory=list)
    stats: DecodeStats = field(default_factory=DecodeStats)
    datagrams: int = 0
    listener_drops: int = 0
    listeners: set[str] = field(default_factory=set)


@dataclass
class Decoded:
    peer: Peer
    frames: Frames
    stats: DecodeStats
    datagrams: int
    taken_at: float  # monotonic time the bytes were taken from the inbox


@dataclass
class PeerState:
    decoder: StreamDecoder = field(default_factory=StreamDecoder)
    last_seen: float = field(default_factory=time.monotonic)
    released: bool = False  # nothing held back since the peer fell silent


class SessionMap:
    """sysid -> newest telemetry session opened with it, cached."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._map: dict[int, int] = {}
        self.loaded_at = float("-inf")  # monotonic time of the last reload's start

    async def lookup(self, sysids: set[int], *, reload: bool = False) -> dict[int, int]:
        now = time.monotonic()
        age = now - self.loaded_at
        if reload or age >= MAP_MAX_AGE_S or (age >= MAP_MISS_S
                                              and not sysids <= self._map.keys()):
            self._map = await asyncio.to_thread(self._load)
            self.loaded_at = now
        return {sysid: self._map[sysid] for sysid in sysids if sysid in self._map}

    def _load(self) -> dict[int, int]:
        with Session(self.engine) as session:
            rows = session.exec(select(TelemetrySession.sysid, func.max(TelemetrySession.id))
                                .where(col(TelemetrySession.sysid).is_not(None))
                                .group_by(TelemetrySession.sysid)).all()
        return {int(sysid): int(session_id) for sysid, session_id in rows}


class Router:
    """Owns the listeners, the per-peer decoders and the path into telemetry sessions."""

    def __init__(self, *, engine: Engine, storage: Storage,
                 buffer_bytes: int = RECEIVE_BUFFER_BYTES) -> None:
        self.engine, self.storage, self.buffer_bytes = engine, storage, buffer_bytes
        self.sessions = SessionMap(engine)
        self.inbox = Inbox(wake_bytes=TAKE_BYTES, wake=self._wake_soon)
        self.listeners: list[Listener] = []
        self.peers: dict[Peer, PeerState] = {}
        self._parked: list[Decoded] = []  # unclaimed frames that a map reload may still claim
        self.unmatched: dict[int, Unmatched] = {}
        self.rejects = DecodeStats()  # every listener, every peer, since start
        self.stored = 0
        self.unstored = 0  # messages a failed commit lost (logged)
        self._drops_seen: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self, endpoints: list[Endpoint]) -> None:
        self._loop = asyncio.get_running_loop()
        for endpoint in endpoints:
            self.listeners.append(await start(endpoint, self.inbox,
                                              buffer_bytes=self.buffer_bytes))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop listening, then decode and store everything received."""
        for listener in self.listeners:
            listener.stop()
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.flush(final=True)

    def _wake_soon(self) -> None:
        if self._loop is not None:  # called from a listener's thread
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), FLUSH_S)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # the listener must outlive any one bad batch
                log.exception("MAVLink flush failed")

    async def flush(self, *, final: bool = False) -> None:
        """Decode what the listeners filed, route it by sysid, commit it per session."""
        decoded, self._parked = self._parked, []
        decoded += await asyncio.to_thread(self._decode, self.inbox.take(), final)
        sysids = {sysid for item in decoded for sysid in _sysids(item.frames)}
        mapping = await self.sessions.lookup(sysids, reload=final)
        batches = self._route(decoded, mapping, final=final)
        self._add_kernel_drops(batches)
        # Sessions commit side by side: a commit is mostly waiting for fsync.
        results = await asyncio.gather(*(asyncio.to_thread(self._store, session_id, batch)
                                         for session_id, batch in batches.items()))
        for messages, committed in results:
            if committed:
                self.stored += messages
            else:
                self.unstored += messages

    def _decode(self, taken: dict[Peer, PeerBytes], final: bool) -> list[Decoded]:
        """Each peer's new bytes; the held-back frame of peers fallen silent; peers forgotten
        (a link silent for seconds, a jammed one, keeps its sequence numbers: the gap counts)."""
        now = time.monotonic()
        out = [self._decode_peer(peer, filed, now, final) for peer, filed in taken.items()]
        silent = [peer for peer, state in self.peers.items() if not state.released
                  and (final or now - state.last_seen > IDLE_S)]
        out += [self._decode_peer(peer, PeerBytes(), now, True) for peer in silent]
        by_age = sorted(self.peers, key=lambda peer: self.peers[peer].last_seen)
        gone = by_age[:max(len(by_age) - MAX_PEERS, 0)] + [
            peer for peer in by_age if now - self.peers[peer].last_seen > FORGET_S]
        out += [self._decode_peer(peer, PeerBytes(closed=True), now, True)
                for peer in dict.fromkeys(gone)]
        return out

    def _decode_peer(self, peer: Peer, filed: PeerBytes, now: float, release: bool) -> Decoded:
        state = self.peers.pop(peer, None) or PeerState()
        before = DecodeStats(**vars(state.decoder.stats))
        for piece in filed.pieces:
            state.decoder.append(piece)
        if filed.pieces:
            state.last_seen, state.released = now, False
        frames = state.decoder.take(final=release or filed.closed)
        state.released = state.released or release
        if not filed.closed:
            self.peers[peer] = state
        stats = state.decoder.stats.since(before)
        self.rejects.add(stats)
        return Decoded(peer, frames, stats, filed.datagrams, now)

    def _route(self, decoded: list[Decoded], mapping: dict[int, int], *,
               final: bool) -> dict[int, SessionBatch]:
        """Frames to the sessions of their sysids; a peer's counters go with its main one."""
        batches: dict[int, SessionBatch] = defaultdict(SessionBatch)
        for item in decoded:
            parts = _split_by_sysid(item.frames)
            if (not final and item.taken_at >= self.sessions.loaded_at
                    and not parts.keys() <= mapping.keys()):
                self._parked.append(item)  # the map is older than these frames: ask again
                continue
            counts = {sysid: sum(len(t) for t in part.values()) for sysid, part in parts.items()}
            for sysid, part in parts.items():
                if sysid in mapping:
                    batches[mapping[sysid]].parts.append(part)
                else:
                    self._note_unmatched(sysid, item.peer, counts[sysid])
            claimed = [sysid for sysid in counts if sysid in mapping]
            if claimed:
                batch = batches[mapping[max(claimed, key=counts.__getitem__)]]
                batch.stats.add(item.stats)
                batch.datagrams += item.datagrams
                batch.listeners.add(item.peer.listener)
        return batches

    def _note_unmatched(self, sysid: int, peer: Peer, messages: int) -> None:
        now = utcnow()
        seen = self.unmatched.get(sysid) or self.unmatched.setdefault(
            sysid, Unmatched(sysid, peer.address, peer.listener, now, now))
        seen.address, seen.listener, seen.last_seen = peer.address, peer.listener, now
        seen.messages += messages
        if time.monotonic() - seen.logged_at >= UNMATCHED_LOG_S:
            seen.logged_at = time.monotonic()
            log.warning("MAVLink from sysid %d (%s on %s): no telemetry session claims it; "
                        "%d messages dropped so far", sysid, peer.address, peer.listener,
                        seen.messages)

    def _add_kernel_drops(self, batches: dict[int, SessionBatch]) -> None:
        """The kernel does not say whose datagrams it dropped: each session fed by a listener
        in this batch gets the listener's new drops."""
        for listener in self.listeners:
            if isinstance(listener, UDPListener):
                listener.refresh_kernel_drops()
            counters = listener.counters
            dropped = (counters.kernel_drops or 0) - self._drops_seen.get(counters.endpoint, 0)
            self._drops_seen[counters.endpoint] = counters.kernel_drops or 0
            for batch in batches.values():
                if counters.endpoint in batch.listeners:
                    batch.listener_drops += dropped

    def _store(self, session_id: int, batch: SessionBatch) -> tuple[int, bool]:
        """Commit one session's batch: (messages, whether they are stored)."""
        frames = _merge(batch.parts)
        messages = sum(len(table) for table in frames.values())
        try:
            store_batch(engine=self.engine, storage=self.storage, session_id=session_id,
                        frames=frames, batch=None, stats=batch.stats)
        except Exception:
            log.exception("telemetry session %d: %d messages not stored", session_id, messages)
            return messages, False
        try:
            _add_counters(self.engine, session_id, batch)
        except SQLAlchemyError:  # the messages are stored; only the counters lag
            log.exception("telemetry session %d: listener counters not updated", session_id)
        return messages, True


def _sysids(frames: Frames) -> set[int]:
    return {int(s) for table in frames.values() for s in table["sysid"].unique()}


def _split_by_sysid(frames: Frames) -> dict[int, Frames]:
    sysids = _sysids(frames)
    if len(sysids) <= 1:  # the usual case: one vehicle per peer
        return {sysid: frames for sysid in sysids}
    return {sysid: {name: table[table["sysid"] == sysid].reset_index(drop=True)
                    for name, table in frames.items() if (table["sysid"] == sysid).any()}
            for sysid in sysids}


def _merge(parts: list[Frames]) -> Frames:
    names = sorted({name for part in parts for name in part})
    return {name: pd.concat([part[name] for part in parts if name in part], ignore_index=True)
            for name in names}


def _add_counters(engine: Engine, session_id: int, batch: SessionBatch) -> None:
    """Increments in SQL itself: another writer (the websocket path) may be adding too."""
    table = TelemetrySession.__table__
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == session_id).values(
            datagrams=table.c.datagrams + batch.datagrams,
            listener_drops=table.c.listener_drops + batch.listener_drops,
            unknown_ids=table.c.unknown_ids + batch.stats.unknown_ids,
            incompatible_flags=table.c.incompatible_flags + batch.stats.incompatible_flags))


def fed_sessions(session: Session, *, limit: int = 20) -> list[TelemetrySession]:
    """The newest telemetry sessions that live listeners have fed."""
    return list(session.exec(select(TelemetrySession)
                             .where(col(TelemetrySession.datagrams) > 0)
                             .order_by(col(TelemetrySession.id).desc()).limit(limit)))


def listening_lines(specs: list[str]) -> list[str]:
    """What `serve` prints about its MAVLink listeners."""
    if not specs:
        return []
    granted = granted_receive_buffer()
    lines = [f"MAVLink: listening on {parse_endpoint(spec)}"
             + (f" (receive buffer {granted / 2**20:.1f} MiB granted by the kernel)"
                if spec.startswith("udpin") else "") for spec in specs]
    return [*lines, "MAVLink status, losses and unclaimed system ids: GET /api/v1/listeners, "
                    "page /admin/listeners"]
