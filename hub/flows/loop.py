"""The feedback loop's own speed, over a recent window: how long an outcome takes to be scored
and to reach the engineers, and a submission to be decided. Computed in SQL from timestamps
the registry keeps (durations and nearest-rank quantiles alike), so that no request reads the
rows themselves; the windows keep each query to recent rows.

- outcome to score: for each soldiers' trial recorded in the window, from the trial's logged
  end (its start when it has no end) to its first recorded outcome. Scores are updated in the
  transaction that records an outcome, so this is also when the score moved. Outcomes recorded
  while the trial was still running count as 0 s.
- outcome to engineer feed: for each soldier's engagement covered by a feedback batch released
  in the window, from its recording to the batch's release (sandbox.feedback: a batch is cut
  once enough different soldiers have new feedback, when the company next asks). The live feed
  only says within a second *that* something arrived; this is when its content is released.
  Engagements a batch suppressed are counted with it.
- submission to decision: for each prototype first decided in the window, from its
  submission to that first decision. Prototypes still waiting are counted apart.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from sandbox.models import (
    Decision,
    Engagement,
    FeedbackRelease,
    Prototype,
    PrototypeKind,
    SandboxStatus,
    Trial,
    Version,
)
from sandbox.timeutil import utcnow

WINDOW_DAYS = 30
LIST_LIMIT = 500  # decisions listed one by one (the API's per-prototype list)


@dataclass(frozen=True)
class LoopFigure:
    count: int  # what the quantiles are over (trials, engagements, prototypes)
    median_s: float | None  # nearest rank: the ceil(n/2)-th shortest
    p90_s: float | None  # the ceil(9n/10)-th shortest


@dataclass(frozen=True)
class LoopMetrics:
    since: datetime
    until: datetime
    outcome_to_score: LoopFigure
    outcome_to_engineer_feed: LoopFigure
    submission_to_decision: LoopFigure
    waiting: int  # submitted prototypes with no decision yet
    oldest_waiting_s: float | None


def seconds_between(dialect: str, start: Any, end: Any) -> Any:
    """SQL for end − start in seconds (SQLite keeps times as text, PostgreSQL as timestamps)."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def quantiles(session: Session, durations: Select[Any]) -> LoopFigure:
    """Count, median and 90th percentile (nearest rank) of a one-column query of seconds."""
    found = durations.subquery()
    seconds = found.c[0]
    ranked = select(seconds.label("s"), func.row_number().over(order_by=seconds).label("rank"),
                    func.count().over().label("n")).subquery()
    median_rank, p90_rank = (ranked.c.n + 1) // 2, (9 * ranked.c.n + 9) // 10
    rows = session.execute(select(ranked.c.s, ranked.c.rank == median_rank,
                                  ranked.c.rank == p90_rank, ranked.c.n).where(
        or_(ranked.c.rank == median_rank, ranked.c.rank == p90_rank))).all()
    if not rows:
        return LoopFigure(count=0, median_s=None, p90_s=None)
    median = next(float(s) for s, is_median, _, _ in rows if is_median)
    p90 = next(float(s) for s, _, is_p90, _ in rows if is_p90)
    return LoopFigure(count=int(rows[0][3]), median_s=median, p90_s=p90)


def _outcome_to_score(dialect: str, since: datetime) -> Select[Any]:
    # Per recent soldiers' trial, its first engagement by id (rows of a batch share their
    # created_at, and batches take ids in order): one probe of (trial_id, id) each, so the
    # cost follows the number of recent trials, never the engagements they hold.
    first_at = (select(Engagement.created_at).where(col(Engagement.trial_id) == col(Trial.id))
                .order_by(col(Engagement.id)).limit(1).correlate(Trial).scalar_subquery())
    recent = (select(func.coalesce(Trial.ended_at, Trial.started_at).label("done"),
                     first_at.label("first_at"))
              .where(col(Trial.created_at) >= since, col(Trial.unit_id).is_not(None))
              .subquery())
    took = seconds_between(dialect, recent.c.done, recent.c.first_at)
    return select(case((took < 0, literal(0.0)), else_=took)).where(
        recent.c.first_at.is_not(None))


def _outcome_to_feed(dialect: str, since: datetime) -> Select[Any]:
    batches = select(
        FeedbackRelease.prototype_id, FeedbackRelease.released_at,
        col(FeedbackRelease.engagement_upto).label("upto"),
        func.lag(FeedbackRelease.engagement_upto, 1, 0).over(
            partition_by=FeedbackRelease.prototype_id, order_by=FeedbackRelease.id)
        .label("after")).subquery()
    return (select(seconds_between(dialect, Engagement.created_at, batches.c.released_at))
            .select_from(batches)
            .join(Engagement, and_(col(Engagement.id) > batches.c.after,
                                   col(Engagement.id) <= batches.c.upto))
            .join(Trial, col(Trial.id) == col(Engagement.trial_id))
            .join(Version, and_(col(Version.id) == col(Trial.version_id),
                                col(Version.prototype_id) == batches.c.prototype_id))
            .where(batches.c.released_at >= since, batches.c.upto > batches.c.after,
                   col(Trial.unit_id).is_not(None)))


def _first_decisions(since: datetime) -> Any:
    return (select(Decision.prototype_id, func.min(Decision.decided_at).label("first_at"))
            .group_by(col(Decision.prototype_id))
            .having(func.min(Decision.decided_at) >= since).subquery())


def _submission_to_decision(dialect: str, since: datetime) -> Select[Any]:
    first = _first_decisions(since)
    return select(seconds_between(dialect, Prototype.created_at, first.c.first_at)).join(
        first, first.c.prototype_id == col(Prototype.id))


def _waiting(session: Session, now: datetime) -> tuple[int, float | None]:
    undecided = (select(func.count(), func.min(Prototype.created_at))
                 .where(Prototype.sandbox_status == SandboxStatus.submitted,
                        Prototype.kind != PrototypeKind.baseline,
                        ~exists().where(col(Decision.prototype_id) == col(Prototype.id))))
    count, oldest = session.execute(undecided).one()
    return int(count), (now - oldest).total_seconds() if oldest is not None else None


def loop_metrics(*, session: Session, now: datetime | None = None,
                 days: int = WINDOW_DAYS) -> LoopMetrics:
    """The three figures over the `days` before `now`, and what still waits for a decision."""
    until = now or utcnow()
    since = until - timedelta(days=days)
    dialect = session.get_bind().dialect.name
    waiting, oldest = _waiting(session, until)
    return LoopMetrics(
        since=since, until=until,
        outcome_to_score=quantiles(session, _outcome_to_score(dialect, since)),
        outcome_to_engineer_feed=quantiles(session, _outcome_to_feed(dialect, since)),
        submission_to_decision=quantiles(session, _submission_to_decision(dialect, since)),
        waiting=waiting, oldest_waiting_s=oldest)


def recent_decisions(*, session: Session, since: datetime) -> list[dict[str, Any]]:
    """Decisions made since `since`, each timed from its prototype's submission, by prototype."""
    took = seconds_between(session.get_bind().dialect.name, Prototype.created_at,
                           Decision.decided_at)
    rows = session.execute(
        select(Decision.prototype_id, Decision.to_status, took)
        .join(Prototype, col(Prototype.id) == col(Decision.prototype_id))
        .where(col(Decision.decided_at) >= since)
        .order_by(col(Decision.prototype_id), col(Decision.id)).limit(LIST_LIMIT)).all()
    listed: dict[int, list[dict[str, Any]]] = {}
    for prototype_id, to_status, seconds in rows:
        listed.setdefault(prototype_id, []).append(
            {"to_status": to_status, "seconds_since_submission": float(seconds)})
    return [{"prototype_id": key, "decisions": value} for key, value in listed.items()]
