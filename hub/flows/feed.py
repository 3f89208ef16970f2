"""Publish/subscribe of "new feedback" notices to engineers' live feeds (and, keyed by trial,
of live positions to dashboards).

Publishers are route handlers running in worker threads; subscribers are websocket tasks on the
event loop, so a notice crosses threads with call_soon_threadsafe. A notice reaches this
process's subscribers at once, and the broker (hub.broker) carries it to the other replicas'.
"""

import asyncio
import threading
from collections import defaultdict
from typing import Any

from sqlmodel import Session

from hub.broker import Broker, InProcess
from sandbox import service
from sandbox.models import Trial
from sandbox.privacy import week_of
from sandbox.timeutil import utcnow

QUEUE_LIMIT = 256


class Feed:
    """Subscribers by key (a company, a trial); `topic` names the feed on the broker."""

    def __init__(self, broker: Broker | None = None, topic: str = "feed") -> None:
        self._subscribers: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]]]
        self._subscribers = defaultdict(set)
        self._lock = threading.Lock()
        self._broker, self._topic = broker or InProcess(), topic
        self._broker.on(topic, self.deliver)

    def subscribe(self, company_id: int) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        with self._lock:
            self._subscribers[company_id].add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, company_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            remaining = {pair for pair in self._subscribers.get(company_id, ())
                         if pair[1] is not queue}
            if remaining:
                self._subscribers[company_id] = remaining
            else:
                self._subscribers.pop(company_id, None)

    def publish(self, key: int, notice: dict[str, Any]) -> None:
        """Hand `notice` to every subscriber of `key`, here and on every other replica;
        callable from any thread."""
        self.deliver(key, notice)
        self._broker.send(self._topic, key, notice)

    def deliver(self, key: int, notice: dict[str, Any]) -> None:
        """Hand `notice` to this process's subscribers of `key`."""
        with self._lock:
            targets = list(self._subscribers.get(key, ()))
        for loop, queue in targets:
            loop.call_soon_threadsafe(_offer, queue, notice)


def _offer(queue: asyncio.Queue[dict[str, Any]], notice: dict[str, Any]) -> None:
    # A feed that stopped reading loses its oldest notices, never blocks the publisher.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(notice)


def notify(feed: Feed, session: Session, trial: Trial, notice: dict[str, Any]) -> None:
    """Tell the owning company's live feeds that new feedback exists: what, never who, where,
    how many or exactly when. Counts and outcomes would fingerprint a trial against the
    export's next batch, and the second would date it: `at` is the ISO week, as in the export.
    """
    subject = service.trial_subject(session=session, trial=trial)
    feed.publish(subject.organisation_id, {
        "event": notice["event"], "prototype_id": subject.prototype_id,
        "version_id": subject.version_id, "trial_kind": str(trial.kind),
        "at": week_of(utcnow())})
