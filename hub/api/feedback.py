"""Anonymised feedback of a prototype (owning engineer; reviewer, admin)."""

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from hub.api.tables import records, table_response
from hub.deps import FeedbackUser, PrototypeDep, SessionDep, SettingsDep
from sandbox import access
from sandbox.anonymise import FeedbackExport
from sandbox.feedback import feedback_export
from sandbox.models import Role

router = APIRouter(tags=["feedback"])


def render(export: FeedbackExport, fmt: str, part: str) -> Response:
    if fmt == "json":
        return JSONResponse({
            "engagements": records(export.engagements), "reports": records(export.reports),
            "suppression": {"engagements": asdict(export.engagement_suppression),
                            "reports": asdict(export.report_suppression)}})
    return table_response(export.engagements if part == "engagements" else export.reports,
                          fmt, part)


@router.get("/prototypes/{prototype_id}/feedback",
            summary="Anonymised engagements and reports of a prototype "
                    "(owning engineer; reviewer, admin)")
def feedback(request: Request, prototype: PrototypeDep, session: SessionDep,
             settings: SettingsDep, user: FeedbackUser,
             format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
             part: Annotated[Literal["engagements", "reports"], Query()] = "engagements",
             ) -> Response:
    if user.role == Role.engineer:
        access.check_prototype_owner(user, prototype)
    export = feedback_export(session=session, prototype=prototype,
                             master_secret=request.app.state.secret.encode(),
                             k=settings.k_anonymity, l=settings.l_diversity)
    return render(export, format, part)
