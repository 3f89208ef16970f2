"""Engagements from simulator bridges (websocket events, DIS) into the registry, one row each,
announced to the owning company's live feed."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hub.flows.feed import Feed, notify
from sandbox import audit, service
from sandbox.audit import Actor
from sandbox.errors import NotFound
from sandbox.models import EngagementCreate, Trial
from sandbox.money import to_eur


def engagement_in(row: dict[str, Any]) -> EngagementCreate:
    """A bridge's row (money in cents) as the registry's input schema."""
    operating = row.get("operating_cost_cents")
    return EngagementCreate(
        threat_kind=row["threat_kind"], threat_cost_eur=to_eur(row["threat_cost_cents"]),
        interceptors_used=row["interceptors_used"], outcome=row["outcome"],
        time_to_intercept_s=row["time_to_intercept_s"],
        operating_cost_eur=None if operating is None else to_eur(operating))


def record_engagement(*, engine: Engine, trial_id: int, row: dict[str, Any], actor: Actor,
                      feed: Feed | None = None) -> int:
    """Store one engagement of the trial and return its id; raises NotFound for no trial."""
    with Session(engine) as session:
        audit.audit_writes(session, actor)
        trial = session.get(Trial, trial_id)
        if trial is None:
            raise NotFound(f"trial {trial_id} not found")
        [stored] = service.add_engagements(session=session, trial=trial,
                                           engagements_in=[engagement_in(row)])
        if feed is not None:
            notify(feed, session, trial, {"event": "engagements", "count": 1,
                                          "outcomes": {row["outcome"]: 1}})
        return stored.id or 0


def recorder(engine: Engine, trial_id: int, *, source: str) -> Callable[[dict[str, Any]], int]:
    """A callback storing one engagement row into the trial; checks the trial exists now."""
    with Session(engine) as session:
        if session.get(Trial, trial_id) is None:
            raise NotFound(f"trial {trial_id} not found")
    actor = Actor(role="bridge", request=source)
    return lambda row: record_engagement(engine=engine, trial_id=trial_id, row=row, actor=actor)
