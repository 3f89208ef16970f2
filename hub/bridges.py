"""Wire simulator bridges to the registry: each engagement they yield becomes a row."""

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from sandbox import audit, service
from sandbox.audit import Actor
from sandbox.errors import NotFound
from sandbox.models import EngagementCreate, Trial
from sandbox.money import to_eur


def recorder(engine: Engine, trial_id: int, *, source: str) -> Any:
    """A callback storing one engagement row (money in cents) into the trial."""
    with Session(engine) as session:
        if session.get(Trial, trial_id) is None:
            raise NotFound(f"trial {trial_id} not found")

    def record(row: dict[str, Any]) -> None:
        with Session(engine) as session:
            audit.audit_writes(session, Actor(role="bridge", request=source))
            trial = session.get(Trial, trial_id)
            assert trial is not None
            service.add_engagements(session=session, trial=trial, engagements_in=[
                EngagementCreate(threat_kind=row["threat_kind"],
                                 threat_cost_eur=to_eur(row["threat_cost_cents"]),
                                 interceptors_used=row["interceptors_used"],
                                 outcome=row["outcome"],
                                 time_to_intercept_s=row["time_to_intercept_s"],
                                 operating_cost_eur=None if row["operating_cost_cents"] is None
                                 else Decimal(row["operating_cost_cents"]) / 100)])
    return record
