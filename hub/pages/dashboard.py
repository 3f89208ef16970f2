"""The reviewers' dashboard: boards by scenario, cost against Pk, decisions waiting."""


from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.deps import SessionDep
from hub.flows.loop import loop_metrics
from hub.pages import charts
from hub.pages.common import page
from hub.pages.session import (
    PageReviewer,
)
from sandbox import decisions, service
from sandbox.models import (
    PrototypeKind,
)

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep, user: PageReviewer) -> Response:
    boards = sorted((where, [row for row in rows if row.score.pk is not None])
                    for where, rows in service.scenario_boards(session=session, by=user).items())
    plots = [(where, charts.cost_vs_pk([
        charts.Point(label=f"{row.prototype.name} {row.version.version}", pk=row.score.pk or 0.0,
                     pk_low=row.score.pk_low or 0.0, pk_high=row.score.pk_high or 0.0,
                     cost_eur=float(row.score.cost_per_intercept_eur or 0),
                     baseline=row.prototype.kind == PrototypeKind.baseline)
        for row in rows if row.score.cost_per_intercept_eur]))
        for where, rows in boards if any(row.score.cost_per_intercept_eur for row in rows)]
    return page(request, "dashboard.html", user, boards=boards, charts=plots,
                queue=decisions.decision_queue(session=session),
                loop=loop_metrics(session=session))


