"""The simulator event protocol: JSON messages on /ws/trials/{id}/events. Pure state machine.

    {"type": "engagement_started", "engagement": "e1", "threat_kind": "shahed_136",
     "threat_cost_eur": 35000}
    {"type": "interceptor_launched", "engagement": "e1", "count": 1}
    {"type": "outcome", "engagement": "e1", "outcome": "intercept", "time_to_intercept_s": 41.5}

An outcome closes the engagement and yields the row to record; anything malformed raises
EventError with a message for the sender, and changes nothing.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

OUTCOMES = ("intercept", "miss", "abort", "fratricide")
MAX_OPEN = 10_000
SLUG = re.compile(r"^[a-z0-9_]{1,40}$")


class EventError(ValueError):
    pass


@dataclass
class _Open:
    threat_kind: str
    threat_cost_cents: int
    launched: int = 0


@dataclass
class EventSession:
    open: dict[str, _Open] = field(default_factory=dict)

    def handle(self, event: Any) -> dict[str, Any] | None:
        """Apply one event; answers the engagement row when an outcome closes one."""
        if not isinstance(event, dict):
            raise EventError("an event is a JSON object")
        kind, name = event.get("type"), event.get("engagement")
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise EventError("engagement: a name of 1 to 64 characters")
        if kind == "engagement_started":
            return self._start(name, event)
        if name not in self.open:
            raise EventError(f"engagement {name!r} was not started")
        if kind == "interceptor_launched":
            count = event.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
                raise EventError("count: a whole number from 1 to 1000")
            self.open[name].launched += count
            return None
        if kind == "outcome":
            return self._close(name, event)
        raise EventError("type: engagement_started, interceptor_launched or outcome")

    def _start(self, name: str, event: dict[str, Any]) -> None:
        if name in self.open:
            raise EventError(f"engagement {name!r} is already open")
        if len(self.open) >= MAX_OPEN:
            raise EventError(f"more than {MAX_OPEN} open engagements; close some first")
        threat = event.get("threat_kind")
        if not isinstance(threat, str) or not SLUG.match(threat):
            raise EventError("threat_kind: lowercase letters, digits and _")
        self.open[name] = _Open(threat, _cents(event.get("threat_cost_eur"), "threat_cost_eur"))
        return None

    def _close(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        outcome = event.get("outcome")
        if outcome not in OUTCOMES:
            raise EventError(f"outcome: one of {', '.join(OUTCOMES)}")
        seconds = event.get("time_to_intercept_s")
        if seconds is not None and (not isinstance(seconds, int | float)
                                    or isinstance(seconds, bool) or not 0 <= seconds <= 86400):
            raise EventError("time_to_intercept_s: seconds from 0 to 86400")
        operating = event.get("operating_cost_eur")
        row = {"threat_kind": self.open[name].threat_kind,
               "threat_cost_cents": self.open[name].threat_cost_cents,
               "interceptors_used": self.open[name].launched, "outcome": outcome,
               "time_to_intercept_s": seconds,
               "operating_cost_cents": None if operating is None
               else _cents(operating, "operating_cost_eur")}
        del self.open[name]
        return row


def _cents(value: Any, name: str) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise EventError(f"{name}: an amount in euros") from None
    if isinstance(value, bool) or not amount.is_finite() or not 0 <= amount <= 10**10:
        raise EventError(f"{name}: an amount in euros from 0")
    return int((amount * 100).to_integral_value())
