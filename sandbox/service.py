"""Operations on the registry: prototypes, versions, trials, engagements, reports, scores.

Each public function commits at most once; access is decided by `sandbox.access`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, exists, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandbox import access, audit
from sandbox.errors import Conflict, Invalid, NotFound
from sandbox.models import (
    Engagement,
    EngagementCreate,
    Organisation,
    OrgKind,
    Prototype,
    PrototypeCreate,
    PrototypeKind,
    PrototypeUpdate,
    Report,
    ReportCreate,
    Role,
    Trial,
    TrialCreate,
    TrialKind,
    User,
    Version,
    VersionCreate,
    VersionUpdate,
)
from sandbox.money import to_cents
from sandbox.scoring import ENGAGEMENT_COLUMNS, VersionScore, score_version


@dataclass(frozen=True)
class Page:
    limit: int = 50
    offset: int = 0


# --- prototypes ----------------------------------------------------------------------------

def create_prototype(*, session: Session, prototype_in: PrototypeCreate, by: User) -> Prototype:
    """Register a prototype owned by the engineer's company."""
    prototype = Prototype.model_validate(prototype_in,
                                         update={"organisation_id": by.organisation_id})
    session.add(prototype)
    session.commit()
    session.refresh(prototype)
    return prototype


def list_prototypes(*, session: Session, by: User, page: Page, kind: PrototypeKind | None = None,
                    organisation_id: int | None = None) -> Sequence[Prototype]:
    query = select(Prototype).where(access.prototype_filter(by))
    if kind is not None:
        query = query.where(Prototype.kind == kind)
    if organisation_id is not None:
        query = query.where(Prototype.organisation_id == organisation_id)
    return session.exec(query.order_by(col(Prototype.id))
                        .offset(page.offset).limit(page.limit)).all()


def get_prototype(*, session: Session, prototype_id: int, by: User) -> Prototype:
    prototype = session.get(Prototype, prototype_id)
    if prototype is None or not access.can_see_prototype(by, prototype):
        raise NotFound(f"prototype {prototype_id} not found")
    return prototype


def update_prototype(*, session: Session, prototype: Prototype, update: PrototypeUpdate,
                     by: User) -> Prototype:
    access.check_prototype_owner(by, prototype)
    prototype.sqlmodel_update(update.model_dump(exclude_unset=True, exclude_none=True))
    session.add(prototype)
    session.commit()
    session.refresh(prototype)
    return prototype


# --- versions ------------------------------------------------------------------------------

def create_version(*, session: Session, prototype: Prototype, version_in: VersionCreate,
                   by: User) -> Version:
    """Publish a new immutable-once-trialled version of a prototype."""
    access.check_prototype_owner(by, prototype)
    version = Version.model_validate(version_in, update={
        "prototype_id": prototype.id, "unit_cost_cents": to_cents(version_in.unit_cost_eur)})
    session.add(version)
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(f"version {version_in.version} of prototype {prototype.id} exists "
                       "already; publish a new version number") from error
    session.refresh(version)
    return version


def get_version(*, session: Session, version_id: int, by: User) -> Version:
    version = session.get(Version, version_id)
    prototype = session.get(Prototype, version.prototype_id) if version else None
    if version is None or prototype is None or not access.can_see_prototype(by, prototype):
        raise NotFound(f"version {version_id} not found")
    return version


def list_versions(*, session: Session, prototype: Prototype) -> Sequence[Version]:
    return session.exec(select(Version).where(Version.prototype_id == prototype.id)
                        .order_by(col(Version.id))).all()


def version_locked(*, session: Session, version_id: int) -> bool:
    """A version with any trial is frozen: its results must keep meaning what they meant."""
    return bool(session.exec(select(exists().where(col(Trial.version_id) == version_id))).one())


def update_version(*, session: Session, version: Version, update: VersionUpdate,
                   by: User) -> Version:
    prototype = session.get(Prototype, version.prototype_id)
    assert prototype is not None  # foreign key
    access.check_prototype_owner(by, prototype)
    if version_locked(session=session, version_id=version.id or 0):
        raise Conflict(f"version {version.version} has trial data and cannot change; "
                       "publish a new version instead")
    changes = update.model_dump(exclude_unset=True, exclude_none=True)
    if "unit_cost_eur" in changes:
        changes["unit_cost_cents"] = to_cents(changes.pop("unit_cost_eur"))
    version.sqlmodel_update(changes)
    session.add(version)
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(f"version {changes.get('version')} exists already") from error
    session.refresh(version)
    return version


# --- trials --------------------------------------------------------------------------------

def create_trial(*, session: Session, trial_in: TrialCreate, by: User | None,
                 unit_id: int | None = None) -> Trial:
    """Record a trial; a soldier's trial belongs to the soldier's unit."""
    version = session.get(Version, trial_in.version_id)
    prototype = session.get(Prototype, version.prototype_id) if version else None
    if prototype is None or (by is not None and not access.can_see_prototype(by, prototype)):
        raise Invalid(f"version_id: version {trial_in.version_id} does not exist")
    if by is not None and by.role == Role.soldier:
        unit_id = by.organisation_id
    if unit_id is not None:
        unit = session.get(Organisation, unit_id)
        if unit is None or unit.kind != OrgKind.unit:
            raise Invalid(f"unit_id: organisation {unit_id} is not a unit")
    trial = Trial.model_validate(trial_in, update={
        "unit_id": unit_id, "created_by_id": by.id if by else None})
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial


@dataclass(frozen=True)
class TrialFilter:
    version_id: int | None = None
    prototype_id: int | None = None
    kind: TrialKind | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.version_id is not None:
            found.append(col(Trial.version_id) == self.version_id)
        if self.prototype_id is not None:
            found.append(col(Trial.version_id).in_(
                select(Version.id).where(Version.prototype_id == self.prototype_id)))
        if self.kind is not None:
            found.append(col(Trial.kind) == self.kind)
        if self.since is not None:
            found.append(col(Trial.started_at) >= self.since)
        if self.until is not None:
            found.append(col(Trial.started_at) < self.until)
        return found


def list_trials(*, session: Session, by: User, page: Page,
                where: TrialFilter = TrialFilter()) -> Sequence[Trial]:
    access.check_raw_trial_access(by)
    query = select(Trial).where(access.trial_filter(by), *where.conditions())
    return session.exec(query.order_by(col(Trial.id)).offset(page.offset).limit(page.limit)).all()


def get_trial(*, session: Session, trial_id: int, by: User) -> Trial:
    access.check_raw_trial_access(by)
    trial = session.get(Trial, trial_id)
    if trial is None or not access.can_see_trial(by, trial):
        raise NotFound(f"trial {trial_id} not found")
    return trial


# --- engagements and reports ---------------------------------------------------------------

def add_engagements(*, session: Session, trial: Trial,
                    engagements_in: Sequence[EngagementCreate]) -> list[Engagement]:
    """Add a batch of engagements to a trial, all or nothing."""
    rows = [Engagement.model_validate(item, update={
        "trial_id": trial.id,
        "threat_cost_cents": to_cents(item.threat_cost_eur),
        "operating_cost_cents": (None if item.operating_cost_eur is None
                                 else to_cents(item.operating_cost_eur))})
        for item in engagements_in]
    session.add_all(rows)
    session.commit()
    for row in rows:
        session.refresh(row)
    return rows


def record_trial_with_engagements(*, session: Session, trial_in: TrialCreate,
                                  engagements: pd.DataFrame, by: User | None,
                                  unit_id: int | None = None) -> Trial:
    """A trial and its (possibly many) engagements in one transaction, e.g. from a simulator.

    `engagements` has the columns of `Engagement` with money in integer cents.
    """
    trial = Trial.model_validate(trial_in, update={"created_by_id": by.id if by else None,
                                                   "unit_id": unit_id})
    session.add(trial)
    session.flush()
    columns = ["threat_kind", "threat_cost_cents", "interceptors_used", "outcome",
               "time_to_intercept_s", "operating_cost_cents"]
    rows = engagements[columns].astype(object).where(engagements[columns].notna(), None)
    records = [{**row, "trial_id": trial.id, "created_at": trial.created_at}
               for row in rows.to_dict(orient="records")]
    if records:
        # Core insert: a row object per engagement would cost seconds for a large simulation;
        # render_nulls keeps one statement for all rows (else each change of which columns
        # are null starts a new one, and a simulation's misses alternate with its hits)
        session.execute(insert(Engagement).execution_options(render_nulls=True), records)
        if "actor" in session.info:
            audit.append(session, actor=session.info["actor"], action="create engagement",
                         target=f"trial:{trial.id} ({len(records)} rows)")
    session.commit()
    session.refresh(trial)
    return trial


@dataclass(frozen=True)
class TrialSubject:
    """What a trial tested, and whose it is."""

    prototype_id: int
    version_id: int
    organisation_id: int


def trial_subject(*, session: Session, trial: Trial) -> TrialSubject:
    version = session.get(Version, trial.version_id)
    prototype = session.get(Prototype, version.prototype_id) if version else None
    assert version is not None and prototype is not None  # foreign keys
    return TrialSubject(prototype_id=prototype.id or 0, version_id=version.id or 0,
                        organisation_id=prototype.organisation_id)


def list_engagements(*, session: Session, trial: Trial, page: Page) -> Sequence[Engagement]:
    return session.exec(select(Engagement).where(Engagement.trial_id == trial.id)
                        .order_by(col(Engagement.id)).offset(page.offset).limit(page.limit)).all()


def add_report(*, session: Session, trial: Trial, report_in: ReportCreate, by: User) -> Report:
    """A soldier's structured feedback on a trial of their unit."""
    report = Report.model_validate(report_in, update={"trial_id": trial.id, "author_id": by.id})
    session.add(report)
    session.commit()
    session.refresh(report)
    return report


def list_reports(*, session: Session, trial: Trial, page: Page) -> Sequence[Report]:
    return session.exec(select(Report).where(Report.trial_id == trial.id)
                        .order_by(col(Report.id)).offset(page.offset).limit(page.limit)).all()


# --- scores --------------------------------------------------------------------------------

def engagement_frame(*, session: Session, version_ids: Sequence[int] | None = None,
                     threat_kind: str | None = None) -> pd.DataFrame:
    """Engagements joined with their trial kind and version cost, ready for scoring."""
    query = (select(Trial.version_id, Trial.kind, Engagement.outcome, Engagement.interceptors_used,
                    Version.unit_cost_cents,
                    func.coalesce(Engagement.operating_cost_cents, 0),
                    Engagement.threat_cost_cents, Engagement.time_to_intercept_s)
             .join(Trial, col(Trial.id) == col(Engagement.trial_id))
             .join(Version, col(Version.id) == col(Trial.version_id)))
    if version_ids is not None:
        query = query.where(col(Trial.version_id).in_(version_ids))
    if threat_kind is not None:
        query = query.where(col(Engagement.threat_kind) == threat_kind)
    rows = session.exec(query).all()
    frame = pd.DataFrame(rows, columns=["version_id", *ENGAGEMENT_COLUMNS])
    frame["time_to_intercept_s"] = frame["time_to_intercept_s"].astype(float)
    return frame


def version_score(*, session: Session, version: Version) -> VersionScore:
    return score_version(engagement_frame(session=session, version_ids=[version.id or 0]))


@dataclass(frozen=True)
class LeaderboardRow:
    version: Version
    prototype: Prototype
    score: VersionScore


def leaderboard(*, session: Session, by: User, threat_kind: str | None = None,
                prototype_kind: PrototypeKind | None = None) -> list[LeaderboardRow]:
    """Every visible version with engagements, cheapest cost per intercept first."""
    query = (select(Version, Prototype)
             .join(Prototype, col(Prototype.id) == col(Version.prototype_id))
             .where(access.prototype_filter(by)))
    if prototype_kind is not None:
        query = query.where(Prototype.kind == prototype_kind)
    pairs = {version.id: (version, prototype) for version, prototype in session.exec(query).all()}
    frame = engagement_frame(session=session, version_ids=list(pairs), threat_kind=threat_kind)
    rows = [LeaderboardRow(*pairs[int(version_id)], score_version(group))
            for version_id, group in frame.groupby("version_id")]
    return sorted(rows, key=_leaderboard_key)


def _leaderboard_key(row: LeaderboardRow) -> tuple[bool, float, int]:
    cost = row.score.overall.cost_per_intercept_eur
    return cost is None, float(cost or 0), row.version.id or 0
