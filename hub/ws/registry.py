"""Open websockets by who opened them: logging out, revoking a key or disabling a user closes
them at once (not only refuses new ones), and shutdown closes them all.

`Sockets` is the small interface the rest of the hub uses. `LocalSockets` keeps the sockets of
this process; `ReplicaSockets` also carries each close over the broker (hub.broker), so logging
out on one replica closes the user's sockets on every other.
"""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import status

from hub.broker import Broker


def user_subject(user_id: int) -> str:
    return f"user:{user_id}"


def token_subject(jti: str) -> str:
    return f"token:{jti}"


def key_subject(key_id: int) -> str:
    return f"key:{key_id}"


@dataclass(eq=False)
class Stop:
    """What a websocket handler waits on beside its client: set once it must close."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    code: int = status.WS_1008_POLICY_VIOLATION
    reason: str = ""

    def trigger(self, code: int, reason: str) -> None:
        """Ask the handler to close with `code`; callable from any thread."""
        def fire() -> None:
            if not self.event.is_set():
                self.code, self.reason = code, reason
                self.event.set()
        self.loop.call_soon_threadsafe(fire)


class Sockets(Protocol):
    def opened(self, *subjects: str) -> AbstractContextManager[Stop]: ...

    def close(self, subject: str, reason: str) -> int: ...

    def close_all(self, reason: str) -> int: ...


class LocalSockets:
    """The open websockets of this process, by subject (user, token, API key)."""

    def __init__(self) -> None:
        self._open: dict[str, set[Stop]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def opened(self, *subjects: str) -> Iterator[Stop]:
        """Register the calling handler's socket under `subjects` while the block runs."""
        stop = Stop(asyncio.get_running_loop())
        with self._lock:
            for subject in subjects:
                self._open.setdefault(subject, set()).add(stop)
        try:
            yield stop
        finally:
            with self._lock:
                for subject in subjects:
                    remaining = self._open.get(subject, set()) - {stop}
                    if remaining:
                        self._open[subject] = remaining
                    else:
                        self._open.pop(subject, None)

    def count(self, subject: str | None = None) -> int:
        """Open sockets under `subject`, or all of them."""
        with self._lock:
            if subject is not None:
                return len(self._open.get(subject, ()))
            return len({stop for stops in self._open.values() for stop in stops})

    def close(self, subject: str, reason: str) -> int:
        """Close every socket opened under `subject` (policy violation); any thread."""
        return self._trigger(subject, status.WS_1008_POLICY_VIOLATION, reason)

    def close_all(self, reason: str) -> int:
        """Close every socket (going away), as the hub shuts down."""
        return self._trigger(None, status.WS_1001_GOING_AWAY, reason)

    def _trigger(self, subject: str | None, code: int, reason: str) -> int:
        with self._lock:
            stops = (set(self._open.get(subject, ())) if subject is not None
                     else {stop for stops in self._open.values() for stop in stops})
        for stop in stops:
            stop.trigger(code, reason)
        return len(stops)


class ReplicaSockets(LocalSockets):
    """This process's sockets; a close is also sent to every other replica, which closes its
    sockets under the same subject (shutting down stays this process's own affair)."""

    TOPIC = "close"

    def __init__(self, broker: Broker) -> None:
        super().__init__()
        self._broker = broker
        broker.on(self.TOPIC, self._closed_elsewhere)

    def close(self, subject: str, reason: str) -> int:
        self._broker.send(self.TOPIC, subject, {"reason": reason})
        return super().close(subject, reason)

    def _closed_elsewhere(self, subject: str, body: dict[str, str]) -> None:
        super().close(subject, str(body.get("reason", "")))
