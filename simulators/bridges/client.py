"""A small client for simulator plug-ins and scripts: send engagement events to the hub.

    with EventClient("ws://hub:8000", trial_id=12, key="slk_…") as hub:
        hub.started("e1", threat_kind="shahed_136", threat_cost_eur=35000)
        hub.launched("e1")
        recorded = hub.outcome("e1", "intercept", time_to_intercept_s=41.5)
"""

import json
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect


class EventClient:
    def __init__(self, base_url: str, *, trial_id: int, key: str, timeout_s: float = 10) -> None:
        self.url = f"{base_url.rstrip('/')}/ws/trials/{trial_id}/events"
        self.key = key
        self.timeout_s = timeout_s
        self._socket: ClientConnection | None = None
        self._stack = ExitStack()

    def __enter__(self) -> "EventClient":
        self._socket = self._stack.enter_context(connect(
            self.url, additional_headers={"X-API-Key": self.key}, open_timeout=self.timeout_s))
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stack.close()

    def send(self, event: dict[str, Any]) -> dict[str, Any]:
        """Send one event and wait for the hub's answer (accepted, recorded or error)."""
        assert self._socket is not None, "use the client as a context manager"
        self._socket.send(json.dumps(event))
        answer: dict[str, Any] = json.loads(self._socket.recv(timeout=self.timeout_s))
        return answer

    def started(self, engagement: str, *, threat_kind: str,
                threat_cost_eur: float) -> dict[str, Any]:
        return self.send({"type": "engagement_started", "engagement": engagement,
                          "threat_kind": threat_kind, "threat_cost_eur": threat_cost_eur})

    def launched(self, engagement: str, count: int = 1) -> dict[str, Any]:
        return self.send({"type": "interceptor_launched", "engagement": engagement,
                          "count": count})

    def outcome(self, engagement: str, outcome: str, *,
                time_to_intercept_s: float | None = None) -> dict[str, Any]:
        return self.send({"type": "outcome", "engagement": engagement, "outcome": outcome,
                          "time_to_intercept_s": time_to_intercept_s})
