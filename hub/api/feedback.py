"""Anonymised feedback of a prototype (owning engineer; reviewer, admin)."""

from dataclasses import asdict
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from hub.api.tables import records, table_response
from hub.deps import FeedbackUser, PrototypeDep, SessionDep, SettingsDep
from hub.flows.feedback import telemetry_summaries
from sandbox import access
from sandbox.anonymise import FeedbackExport
from sandbox.feedback import feedback_export
from sandbox.models import Role

router = APIRouter(tags=["feedback"])


def render(export: FeedbackExport, fmt: str, part: str, telemetry: pd.DataFrame) -> Response:
    if fmt == "json":
        return JSONResponse({
            "engagements": records(export.engagements), "reports": records(export.reports),
            "telemetry": records(telemetry),
            "suppression": {"engagements": asdict(export.engagement_suppression),
                            "reports": asdict(export.report_suppression)}})
    parts = {"engagements": export.engagements, "reports": export.reports,
             "telemetry": telemetry}
    return table_response(parts[part], fmt, part)


@router.get("/prototypes/{prototype_id}/feedback",
            summary="Anonymised engagements and reports of a prototype "
                    "(owning engineer; reviewer, admin)")
def feedback(request: Request, prototype: PrototypeDep, session: SessionDep,
             settings: SettingsDep, user: FeedbackUser,
             format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
             part: Annotated[Literal["engagements", "reports", "telemetry"],
                             Query()] = "engagements",
             ) -> Response:
    if user.role == Role.engineer:
        access.check_prototype_owner(user, prototype)
    secret = request.app.state.secret.encode()
    export = feedback_export(session=session, prototype=prototype, master_secret=secret,
                             k=settings.k_anonymity, l=settings.l_diversity)
    telemetry = telemetry_summaries(session=session, prototype=prototype, master_secret=secret,
                                    data_dir=settings.data_dir)
    return render(export, format, part, telemetry)
