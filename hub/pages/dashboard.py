"""The reviewers' dashboard: boards by scenario, cost against Pk, decisions waiting, the
newest telemetry sessions."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from hub.deps import SessionDep
from hub.flows.loop import loop_metrics
from hub.pages import charts
from hub.pages.common import page
from hub.pages.session import PageReviewer
from sandbox import decisions, service
from sandbox.models import (
    Prototype,
    PrototypeKind,
    TelemetrySession,
    Trial,
    Version,
)

router = APIRouter(include_in_schema=False)
RECENT_SESSIONS = 20


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep, user: PageReviewer) -> Response:
    boards = sorted((where, [row for row in rows if row.score.pk is not None])
                    for where, rows in service.scenario_boards(session=session, by=user).items())
    plots = [(where, charts.cost_vs_pk([
        charts.Point(label=f"{row.prototype.name} {row.version.version}", pk=row.score.pk or 0.0,
                     pk_low=row.score.pk_low or 0.0, pk_high=row.score.pk_high or 0.0,
                     cost_eur=float(row.score.cost_per_intercept_eur or 0),
                     baseline=row.prototype.kind == PrototypeKind.baseline)
        for row in rows if row.score.cost_per_intercept_eur], name=f"cost-vs-pk-{where[0]}"))
        for where, rows in boards if any(row.score.cost_per_intercept_eur for row in rows)]
    return page(request, "dashboard.html", user, boards=boards, charts=plots,
                queue=decisions.decision_queue(session=session),
                loop=loop_metrics(session=session), sessions=_recent_sessions(session))


def _recent_sessions(session: Session) -> list[Any]:
    """The newest telemetry sessions (session, trial, version, prototype), each linked to its
    page."""
    return list(session.exec(select(TelemetrySession, Trial, Version, Prototype)
        .join(Trial, col(Trial.id) == col(TelemetrySession.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id))
        .join(Prototype, col(Prototype.id) == col(Version.prototype_id))
        .where(col(TelemetrySession.pending_until).is_(None))
        .order_by(col(TelemetrySession.id).desc()).limit(RECENT_SESSIONS)).all())


