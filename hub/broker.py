"""What every hub replica must hear: the engineers' feed, live positions, and "close the
websockets of this user, token or key". Publishers always deliver to their own process first;
the broker carries the notice to the other replicas, which deliver it to theirs.

Two brokers behind one interface, chosen by SOLDIERSLAB_BROKER: `process` (one process, as the
embedded SQLite hub runs: nothing to carry) and `postgres` (LISTEN/NOTIFY on the database every
replica already shares). `auto` takes `postgres` on a PostgreSQL database.

Why PostgreSQL LISTEN/NOTIFY rather than NATS: the replicas already share PostgreSQL and
nothing else, so the feed adds no service to run, secure, back up or watch, and a hub that can
reach its database can reach its broker. The notices are small (under 300 bytes; NOTIFY takes
up to 8,000), few (an outcome, a report, a closed credential; live positions at most 10 a
second per trial) and hints, not records: what was notified is in the database, so delivery
at most once, to the replicas listening at that moment, is enough, and NATS's at-most-once
core delivery would give no more. Notices are published after the outcome's transaction has
committed, and NOTIFY is itself transactional, so an engineer never hears of an outcome that
is not readable yet; a replica receives notices in commit order. What NOTIFY costs: every
replica receives every notice (no interest routing, so a replica drops live positions of
trials nobody watches on it), and all notifying commits in the database take one lock in turn;
each replica sends its notices in one transaction per burst to keep that lock rare. At the
load where that matters (docs/scaling.md), NATS subjects per company and trial replace this
class behind the same interface.
"""

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import Callable, Hashable
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import URL, make_url

CHANNEL = "soldierslab"
MAX_PAYLOAD_BYTES = 7_900  # NOTIFY refuses 8,000 bytes and more
MAX_PENDING = 10_000  # notices waiting while the database is unreachable; the oldest go first
RETRY_S = 1.0
READY_S = 5.0  # how long a starting replica waits for its LISTEN before serving anyway
log = logging.getLogger(__name__)

Handler = Callable[[Any, dict[str, Any]], None]  # (key, body), called on the event loop


class Broker(Protocol):
    def on(self, topic: str, handler: Handler) -> None:
        """Call `handler` for every notice on `topic` that another replica sends."""

    def send(self, topic: str, key: Any, body: dict[str, Any]) -> None:
        """Carry a notice to the other replicas; callable from any thread, never blocks."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class InProcess:
    """One hub process: local delivery has reached every subscriber already."""

    def on(self, topic: str, handler: Handler) -> None:
        pass

    def send(self, topic: str, key: Any, body: dict[str, Any]) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class PostgresBroker:
    """LISTEN/NOTIFY on one channel: each notice is JSON {origin, topic, key, body}; a replica
    ignores its own (delivered locally already). Notices on `latest_only` topics supersede the
    unsent one with the same key (a live position), so a slow database gets the newest."""

    def __init__(self, conninfo: str, *, latest_only: frozenset[str] = frozenset()) -> None:
        self.conninfo = conninfo
        self.origin = secrets.token_hex(8)
        self.latest_only = latest_only
        self._handlers: dict[str, list[Handler]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[Hashable, str] = {}
        self._serial = itertools.count()
        self._wake: asyncio.Event
        self._listening: asyncio.Event
        self._tasks: list[asyncio.Task[None]] = []

    def on(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def send(self, topic: str, key: Any, body: dict[str, Any]) -> None:
        payload = json.dumps({"origin": self.origin, "topic": topic, "key": key, "body": body},
                             separators=(",", ":"))
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            log.warning("broker: a %s notice of %d bytes is too long to carry; this replica "
                        "only", topic, len(payload.encode()))
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._queue, topic, key, payload)

    def _queue(self, topic: str, key: Any, payload: str) -> None:
        slot = (topic, key) if topic in self.latest_only else (topic, next(self._serial))
        self._pending.pop(slot, None)  # a superseded live position goes; order stays by time
        self._pending[slot] = payload
        if len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        self._wake.set()

    async def start(self) -> None:
        """LISTEN before the replica serves (waiting at most READY_S), then send as asked.

        An app whose lifespan is entered a second time while the first runs (two servers, or
        a test client beside another) keeps the first run: its tasks live on the first loop,
        and one replica listens once."""
        if self._loop is not None and not self._loop.is_closed():
            log.warning("broker: started already on another event loop; that one carries")
            return
        self._loop = asyncio.get_running_loop()
        self._wake, self._listening = asyncio.Event(), asyncio.Event()
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), READY_S)

    async def stop(self) -> None:
        """Stop the run this loop started (a second entry's stop leaves the first running)."""
        if self._loop is not asyncio.get_running_loop():
            return
        self._loop = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    async for notice in connection.notifies():
                        self._deliver(notice.payload)
            except psycopg.Error as error:  # notices sent meanwhile are missed: hints only
                self._listening.clear()
                log.warning("broker: not listening (%s); again in %.0f s", error, RETRY_S)
                await asyncio.sleep(RETRY_S)

    def _deliver(self, payload: str) -> None:
        try:
            notice = json.loads(payload)
            if notice["origin"] == self.origin:
                return
            handlers, key, body = self._handlers.get(notice["topic"], ()), notice["key"], \
                notice["body"]
        except (ValueError, KeyError, TypeError):
            log.warning("broker: a notice that is not ours on %s, ignored", CHANNEL)
            return
        for handler in handlers:
            handler(key, body)

    async def _send(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True) as connection:
                    while True:
                        await self._wake.wait()
                        self._wake.clear()
                        await self._notify(connection)
            except psycopg.Error as error:  # what is pending waits for the next connection
                log.warning("broker: not sending (%s); again in %.0f s", error, RETRY_S)
                await asyncio.sleep(RETRY_S)

    async def _notify(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Everything pending in one statement: one transaction, one turn of NOTIFY's lock."""
        while self._pending:
            sending, self._pending = self._pending, {}
            try:
                await connection.execute("SELECT pg_notify(%s, payload) FROM unnest(%s::text[])"
                                         " AS payload", [CHANNEL, list(sending.values())])
            except psycopg.Error:
                self._pending = {**sending, **self._pending}  # newer positions win
                self._wake.set()  # for the next connection
                raise


def broker_for(kind: str, database_url: str | URL) -> Broker:
    """The broker the settings name (`auto`: PostgreSQL's on a PostgreSQL database)."""
    url = make_url(database_url)
    if kind == "process" or (kind == "auto" and url.get_backend_name() != "postgresql"):
        return InProcess()
    if url.get_backend_name() != "postgresql":
        raise ValueError("SOLDIERSLAB_BROKER=postgres needs a PostgreSQL DATABASE_URL")
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresBroker(conninfo, latest_only=frozenset({"live"}))
