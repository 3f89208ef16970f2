"""What the registry holds, as the operator's `soldierslab list` shows it: prototypes, versions,
trials and telemetry sessions, each with the ids and names that other commands ask for.

The command line works on the database itself, so it sees everything (as a reviewer does)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from sandbox.models import (
    Engagement,
    Organisation,
    Prototype,
    PrototypeKind,
    SandboxStatus,
    TelemetrySession,
    Trial,
    TrialKind,
    Version,
)
from sandbox.money import EurOut, to_eur
from sandbox.service import Page


class PrototypeRow(BaseModel):
    id: int
    name: str
    kind: PrototypeKind
    company: str
    sandbox_status: SandboxStatus
    versions: int
    created_at: datetime


class VersionRow(BaseModel):
    id: int
    prototype_id: int
    prototype: str
    version: str
    unit_cost_eur: EurOut
    reusable: bool
    trials: int
    created_at: datetime


class TrialRow(BaseModel):
    id: int
    prototype_id: int
    version_id: int
    prototype: str
    version: str
    kind: TrialKind
    scenario: str
    simulator: str | None
    unit: str | None
    started_at: datetime
    engagements: int


class SessionRow(BaseModel):
    id: int
    trial_id: int
    source: str
    sysid: int | None
    log_format: str | None
    messages: int
    bytes_on_disk: int
    created_at: datetime


RowT = TypeVar("RowT", bound=BaseModel)


@dataclass(frozen=True)
class Listing(Generic[RowT]):
    rows: list[RowT]
    total: int  # rows matching the filters, on every page


@dataclass(frozen=True)
class Within:
    """Only the rows of one prototype, version or trial, or of one kind of trial."""
    prototype_id: int | None = None
    version_id: int | None = None
    trial_id: int | None = None
    trial_kind: TrialKind | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        for column, value in ((Version.prototype_id, self.prototype_id),
                              (Version.id, self.version_id), (Trial.id, self.trial_id),
                              (Trial.kind, self.trial_kind)):
            if value is not None:
                query = query.where(col(column) == value)
        return query


def _count_of(child: Any, parent_key: Any, parent_id: Any) -> Any:
    """How many `child` rows point at each listed row (their foreign keys are indexed)."""
    return (select(func.count()).select_from(child).where(parent_key == parent_id)
            .correlate_except(child).scalar_subquery())


def _paged(session: Session, query: Select[Any], order: Any, page: Page) -> tuple[list[Any], int]:
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(order).offset(page.offset).limit(page.limit)).all()
    return list(rows), total


def list_prototypes(*, session: Session, page: Page,
                    kind: PrototypeKind | None = None) -> Listing[PrototypeRow]:
    query = (select(Prototype, Organisation.name,
                    _count_of(Version, col(Version.prototype_id), col(Prototype.id)))
             .join(Organisation, col(Organisation.id) == col(Prototype.organisation_id)))
    if kind is not None:
        query = query.where(col(Prototype.kind) == kind)
    rows, total = _paged(session, query, col(Prototype.id), page)
    return Listing([PrototypeRow(
        id=p.id, name=p.name, kind=p.kind, company=company, sandbox_status=p.sandbox_status,
        versions=versions, created_at=p.created_at) for p, company, versions in rows], total)


def list_versions(*, session: Session, page: Page,
                  where: Within = Within()) -> Listing[VersionRow]:
    query = (select(Version, Prototype.name,
                    _count_of(Trial, col(Trial.version_id), col(Version.id)))
             .join(Prototype, col(Prototype.id) == col(Version.prototype_id)))
    rows, total = _paged(session, where.apply(query), col(Version.id), page)
    return Listing([VersionRow(
        id=v.id, prototype_id=v.prototype_id, prototype=name, version=v.version,
        unit_cost_eur=to_eur(v.unit_cost_cents), reusable=v.reusable, trials=trials,
        created_at=v.created_at) for v, name, trials in rows], total)


def list_trials(*, session: Session, page: Page, where: Within = Within()) -> Listing[TrialRow]:
    query = (select(Trial, Version, Prototype.name, Organisation.name,
                    _count_of(Engagement, col(Engagement.trial_id), col(Trial.id)))
             .join(Version, col(Version.id) == col(Trial.version_id))
             .join(Prototype, col(Prototype.id) == col(Version.prototype_id))
             .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id)))
    rows, total = _paged(session, where.apply(query), col(Trial.id), page)
    return Listing([TrialRow(
        id=t.id, prototype_id=v.prototype_id, version_id=v.id, prototype=name,
        version=v.version, kind=t.kind, scenario=t.scenario, simulator=t.simulator, unit=unit,
        started_at=t.started_at, engagements=engagements)
        for t, v, name, unit, engagements in rows], total)


def list_sessions(*, session: Session, page: Page,
                  where: Within = Within()) -> Listing[SessionRow]:
    """Finished telemetry sessions (a file still being moved into place is not one yet)."""
    query = (select(TelemetrySession)
             .join(Trial, col(Trial.id) == col(TelemetrySession.trial_id))
             .join(Version, col(Version.id) == col(Trial.version_id))
             .where(col(TelemetrySession.pending_until).is_(None)))
    rows, total = _paged(session, where.apply(query), col(TelemetrySession.id), page)
    return Listing([SessionRow.model_validate(row, from_attributes=True) for row in rows], total)
