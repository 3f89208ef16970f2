"""In-process publish/subscribe of "new feedback" notices to engineers' live feeds.

Publishers are route handlers running in worker threads; subscribers are websocket tasks on the
event loop, so a notice crosses threads with call_soon_threadsafe. One hub process per
deployment (as docker-compose runs it); several would need a broker in between.
"""

import asyncio
import threading
from collections import defaultdict
from typing import Any

from sqlmodel import Session

from sandbox import service
from sandbox.models import Trial
from sandbox.privacy import week_of
from sandbox.timeutil import utcnow

QUEUE_LIMIT = 256


class Feed:
    def __init__(self) -> None:
        self._subscribers: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]]]
        self._subscribers = defaultdict(set)
        self._lock = threading.Lock()

    def subscribe(self, company_id: int) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        with self._lock:
            self._subscribers[company_id].add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, company_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers[company_id] = {
                pair for pair in self._subscribers[company_id] if pair[1] is not queue}

    def publish(self, company_id: int, notice: dict[str, Any]) -> None:
        """Hand `notice` to every live feed of the company; callable from any thread."""
        with self._lock:
            targets = list(self._subscribers.get(company_id, ()))
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
