"""Operations on the registry: prototypes, versions, trials, engagements, reports, scores.

Each public function commits at most once; access is decided by `sandbox.access`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandbox import access, aggregates, audit, bulk
from sandbox.aggregates import Scope
from sandbox.errors import Conflict, Invalid, NotFound
from sandbox.models import (
    Engagement,
    EngagementCreate,
    FeedbackRelease,
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
from sandbox.score_view import (
    OTHER_SCENARIO,
    ScoreView,
    named,
    unreleased_engagements,
    view_of,
)
from sandbox.scoring import Condition, Score, Tally, VersionScore, score, score_version, total
from sandbox.timeutil import utcnow


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

BATCH_ROWS = 50_000  # rows per bulk insert, each followed by one update of the aggregates


@dataclass(frozen=True)
class EngagementBatch:
    """What was written: how many rows, when, and (if asked for) their ids in row order."""

    count: int
    created_at: datetime
    ids: np.ndarray | None = None


def add_engagements(*, session: Session, trial: Trial,
                    engagements_in: Sequence[EngagementCreate]) -> list[Engagement]:
    """Add engagements to a trial, all or nothing, and return them as stored."""
    frame = pd.DataFrame({
        "threat_kind": [item.threat_kind for item in engagements_in],
        "threat_cost_cents": [to_cents(item.threat_cost_eur) for item in engagements_in],
        "interceptors_used": [item.interceptors_used for item in engagements_in],
        "outcome": [str(item.outcome) for item in engagements_in],
        "time_to_intercept_s": [item.time_to_intercept_s for item in engagements_in],
        "operating_cost_cents": pd.array([None if item.operating_cost_eur is None
                                          else to_cents(item.operating_cost_eur)
                                          for item in engagements_in], dtype="Int64")})
    batch = add_engagement_rows(session=session, trial=trial, engagements=frame, with_ids=True)
    assert batch.ids is not None
    return [Engagement.model_validate(item, update={
        "id": int(row_id), "trial_id": trial.id, "created_at": batch.created_at,
        "threat_cost_cents": to_cents(item.threat_cost_eur),
        "operating_cost_cents": (None if item.operating_cost_eur is None
                                 else to_cents(item.operating_cost_eur))})
        for item, row_id in zip(engagements_in, batch.ids, strict=True)]


def add_engagement_rows(*, session: Session, trial: Trial, engagements: pd.DataFrame,
                        with_ids: bool = False) -> EngagementBatch:
    """Add validated engagement rows (`engagement_rows.COLUMNS`, money in cents) to a trial,
    all or nothing, through the database's bulk path."""
    batch = _write_engagements(session, trial, engagements, with_ids=with_ids)
    session.commit()
    return batch


def _write_engagements(session: Session, trial: Trial, engagements: pd.DataFrame, *,
                       with_ids: bool) -> EngagementBatch:
    """Insert in batches, each added to the aggregates at once; the caller commits."""
    if "actor" in session.info:  # first: the audit chain is locked before SQLite's write lock
        audit.append(session, actor=session.info["actor"], action="create engagement",
                     target=f"trial:{trial.id} ({len(engagements)} rows)")
    created_at = utcnow()
    ids = []
    for start in range(0, len(engagements), BATCH_ROWS):
        rows = engagements.iloc[start:start + BATCH_ROWS]
        found = bulk.insert_engagements(session, trial_id=trial.id or 0, engagements=rows,
                                        created_at=created_at, with_ids=with_ids)
        aggregates.add(session, trial=trial, engagements=rows)
        ids.append(found)
    return EngagementBatch(count=len(engagements), created_at=created_at,
                           ids=np.concatenate([np.empty(0, np.int64), *ids]) if with_ids else None)


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
    if len(engagements):
        _write_engagements(session, trial, engagements, with_ids=False)
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

REFERENCE_ORGANISATION = "Reference baselines"  # owns the baselines every board compares with


def reference_filter() -> ColumnElement[bool]:
    """SQL condition selecting the reference baselines, public to every role."""
    return and_(col(Prototype.kind) == PrototypeKind.baseline,
                col(Prototype.organisation_id).in_(select(Organisation.id).where(
                    Organisation.name == REFERENCE_ORGANISATION)))


def version_score(*, session: Session, version: Version,
                  view: ScoreView | None = None) -> VersionScore:
    """Every condition of the version scored from its aggregates, as `view` (default: the
    session's viewer, see sandbox.score_view) shows them."""
    tallies = _tallies(session, Scope(version_ids=[version.id or 0]), view or view_of(session))
    return score_version({condition: item for (_, condition), item in tallies.items()},
                         unit_cost_cents=version.unit_cost_cents)


def _tallies(session: Session, scope: Scope, view: ScoreView) -> aggregates.Tallies:
    """The tallies in scope as `view` shows them."""
    less = unreleased_engagements(scope.version_ids) if view.released_only else None
    if scope.scenario is None or view.scenarios is None or scope.scenario in view.scenarios:
        return named(aggregates.read(session, scope, less=less), view)
    if scope.scenario != OTHER_SCENARIO:  # asking for a typed name must not confirm it
        return {}
    tallies = named(aggregates.read(session, replace(scope, scenario=None), less=less), view)
    return {key: item for key, item in tallies.items() if key[1].scenario == OTHER_SCENARIO}


def report_count(*, session: Session, version: Version, view: ScoreView | None = None) -> int:
    """Reports on the version's trials; engineers count those released to them."""
    where = [col(Trial.version_id) == version.id]
    if (view or view_of(session)).released_only:
        where.append(col(Report.id) <= select(func.coalesce(func.max(
            FeedbackRelease.report_upto), 0)).where(
            FeedbackRelease.prototype_id == version.prototype_id).scalar_subquery())
    return int(session.exec(select(func.count()).select_from(Report).join(
        Trial, col(Trial.id) == col(Report.trial_id)).where(*where)).one())


@dataclass(frozen=True)
class LeaderboardRow:
    version: Version
    prototype: Prototype
    condition: Condition
    tally: Tally
    score: Score
    rank: int = 0  # 1 = cheapest cost per intercept within the condition
    references: tuple["LeaderboardRow", ...] = ()  # baselines on the same scenario and threat


@dataclass(frozen=True)
class BoardFilter:
    scenario: str | None = None
    threat_kind: str | None = None
    trial_kind: TrialKind | None = None
    prototype_kind: PrototypeKind | None = None


def leaderboard(*, session: Session, by: User | None, where: BoardFilter = BoardFilter(),
                view: ScoreView | None = None) -> list[LeaderboardRow]:
    """Every version `by` may see (None: the command line, all), one row per condition
    (scenario, threat kind, trial kind) in scope, grouped by condition and ranked by cost per
    intercept within it; each row carries the baselines scored on its scenario and threat
    kind. Scores as `view` (default: `by`'s, see sandbox.score_view) shows them."""
    view = view or view_of(session, by)
    visible = select(Version.id).join(Prototype, col(Prototype.id) == col(Version.prototype_id))
    if where.prototype_kind is not None:
        visible = visible.where(Prototype.kind == where.prototype_kind)
    if by is not None:
        visible = visible.where(or_(access.prototype_filter(by), reference_filter()))
    rows = _board_rows(session, Scope(
        version_ids=visible,
        scenario=where.scenario, threat_kind=where.threat_kind,
        trial_kind=None if where.trial_kind is None else str(where.trial_kind)), view)
    baselines = select(Version.id).join(Prototype, col(Prototype.id) == col(
        Version.prototype_id)).where(reference_filter())
    if where.trial_kind is None and where.prototype_kind is None:  # the rows hold them all
        ids = set(session.exec(baselines).all())
        references = [row for row in rows if row.version.id in ids]
    else:
        references = _board_rows(session, Scope(version_ids=baselines, scenario=where.scenario,
                                                threat_kind=where.threat_kind), view)
    return _ranked(rows, references)


def _board_rows(session: Session, scope: Scope, view: ScoreView) -> list[LeaderboardRow]:
    tallies = _tallies(session, scope, view)
    pairs = {version.id: (version, prototype) for version, prototype in session.exec(
        select(Version, Prototype).join(Prototype, col(Prototype.id) == col(Version.prototype_id))
        .where(col(Version.id).in_({version_id for version_id, _ in tallies}))).all()}
    return [LeaderboardRow(*pairs[version_id], condition, item,
                           score(item, unit_cost_cents=pairs[version_id][0].unit_cost_cents))
            for (version_id, condition), item in tallies.items()]


def _ranked(rows: list[LeaderboardRow],
            references: list[LeaderboardRow]) -> list[LeaderboardRow]:
    by_condition: dict[Condition, list[LeaderboardRow]] = {}
    for reference in sorted(references, key=_board_key):
        by_condition.setdefault(reference.condition, []).append(reference)
    ranked, rank, previous = [], 0, None
    for row in sorted(rows, key=_board_key):
        rank = rank + 1 if row.condition == previous else 1
        previous = row.condition
        # the baselines under the row's own condition, else as simulated on its scenario
        near = by_condition.get(row.condition) or by_condition.get(
            replace(row.condition, trial_kind=str(TrialKind.simulation)), [])
        ranked.append(replace(row, rank=rank, references=tuple(
            reference for reference in near if reference.version.id != row.version.id)))
    return ranked


def _board_key(row: LeaderboardRow) -> tuple[str, str, str, bool, Decimal, int]:
    cost = row.score.cost_per_intercept_eur
    return (row.condition.scenario, row.condition.threat_kind, row.condition.trial_kind,
            cost is None, cost or Decimal(0), row.version.id or 0)


@dataclass(frozen=True)
class ScenarioRow:
    """One version on one scenario and threat kind: its trial kinds together and apart."""

    version: Version
    prototype: Prototype
    score: Score
    by_trial_kind: dict[str, Score]


def scenario_boards(*, session: Session, by: User | None,
                    view: ScoreView | None = None) -> dict[tuple[str, str], list[ScenarioRow]]:
    """The board by (scenario, threat kind), one row per version, cheapest first."""
    grouped: dict[tuple[str, str], dict[int, list[LeaderboardRow]]] = {}
    for row in leaderboard(session=session, by=by, view=view):
        grouped.setdefault((row.condition.scenario, row.condition.threat_kind), {}).setdefault(
            row.version.id or 0, []).append(row)
    boards = {}
    for where, versions in grouped.items():
        board = [ScenarioRow(rows[0].version, rows[0].prototype,
                             score(total(row.tally for row in rows),
                                   unit_cost_cents=rows[0].version.unit_cost_cents),
                             {row.condition.trial_kind: row.score for row in rows})
                 for rows in versions.values()]
        boards[where] = sorted(board, key=lambda r: (r.score.cost_per_intercept_eur is None,
                                                     r.score.cost_per_intercept_eur or 0,
                                                     r.version.id or 0))
    return boards


def rebuild_scores(*, session: Session) -> aggregates.Rebuild:
    """Recompute every score aggregate from the engagements, in one transaction."""
    if "actor" in session.info:  # first: the audit chain is locked before SQLite's write lock
        audit.append(session, actor=session.info["actor"], action="rebuild scores",
                     target="score_aggregate, score_time_bin, trial_outcome_count")
    result = aggregates.rebuild(session)
    session.commit()
    return result


def trial_outcomes(*, session: Session, trials: Sequence[Trial]) -> dict[int, dict[str, int]]:
    """Engagements by outcome of each trial, from the aggregates."""
    return aggregates.trial_outcomes(session, [trial.id or 0 for trial in trials])
