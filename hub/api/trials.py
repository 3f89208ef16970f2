"""Trials, their engagements and reports: soldiers log them; reviewers and admins read all."""

import json
import math
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from hub.deps import (
    PageDep,
    SessionDep,
    SoldierUser,
    TrialDep,
    TrialReader,
    TrialWriter,
    audit_raw_read,
)
from hub.flows.feed import notify
from sandbox import access, service
from sandbox import engagement_rows as rows
from sandbox.models import (
    Engagement,
    EngagementCreate,
    EngagementPublic,
    Id,
    Report,
    ReportCreate,
    ReportPublic,
    Trial,
    TrialCreate,
    TrialKind,
    TrialPublic,
    User,
)
from sandbox.service import EngagementBatch, TrialFilter

router = APIRouter(prefix="/trials", tags=["trials"])

# 100,000 engagements as JSON take about 14 MB; room for whitespace and optional fields
MAX_ENGAGEMENT_BODY_BYTES = 64 << 20


def _public(trial: Trial, user: User) -> TrialPublic:
    hidden = {} if access.sees_positions(user) else {"lat": None, "lon": None}
    return TrialPublic.model_validate(trial, update=hidden)


@router.post("", response_model=TrialPublic, status_code=status.HTTP_201_CREATED,
             summary="Record a trial (soldier: for their unit; reviewer)")
def create(trial_in: TrialCreate, session: SessionDep, user: TrialWriter) -> TrialPublic:
    return _public(service.create_trial(session=session, trial_in=trial_in, by=user), user)


@router.get("", response_model=list[TrialPublic],
            summary="List trials (soldier: their unit's; reviewer, admin: all)")
def list_all(session: SessionDep, page: PageDep, user: TrialReader,
             version_id: Id | None = None, prototype_id: Id | None = None,
             kind: TrialKind | None = None, since: datetime | None = None,
             until: datetime | None = None) -> list[TrialPublic]:
    where = TrialFilter(version_id=version_id, prototype_id=prototype_id, kind=kind,
                        since=since, until=until)
    trials = service.list_trials(session=session, by=user, page=page, where=where)
    audit_raw_read(session, "trials:" + ",".join(str(trial.id) for trial in trials)[:190])
    return [_public(trial, user) for trial in trials]


@router.get("/{trial_id}", response_model=TrialPublic,
            summary="One trial (soldier: their unit's; reviewer, admin)")
def read(trial: TrialDep, session: SessionDep, user: TrialReader) -> TrialPublic:
    audit_raw_read(session, f"trial:{trial.id}")
    return _public(trial, user)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its local `$defs` written in place (OpenAPI has no `$defs`)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


_ROW = EngagementCreate.model_json_schema()
JSON_LIST_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "array", "minItems": 1, "maxItems": rows.MAX_ROWS,
               "items": _inline(_ROW, _ROW.get("$defs", {}))}}}}}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "application/x-ndjson": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}}}
REFUSED = {413: {"description": "body larger than the upload limit"},
           415: {"description": "not one of the accepted formats"}}


class EngagementUpload(BaseModel):
    trial_id: int
    recorded: int
    outcomes: dict[str, int]


async def _body(request: Request) -> bytes:
    limit = min(MAX_ENGAGEMENT_BODY_BYTES, request.app.state.settings.max_upload_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"request body larger than {limit} bytes; split the upload")
        chunks.append(chunk)
    return b"".join(chunks)


def _record(request: Request, session: Session, trial: Trial, table: Callable[[], pd.DataFrame],
            *, with_ids: bool) -> tuple[pd.DataFrame, EngagementBatch]:
    """Validate every row, then write them all (or, on any bad row, nothing) and tell the
    owning company's feed."""
    try:
        found = rows.engagement_rows(table())
    except rows.RowsInvalid as error:
        raise RequestValidationError([
            {"loc": ["body", bad.row, bad.field], "type": "invalid",
             "msg": f"row {bad.row}: {bad.field}: {bad.message}"} for bad in error.errors]
            + ([{"loc": ["body"], "type": "invalid", "msg": str(error)}]
               if error.count > len(error.errors) else [])) from None
    batch = service.add_engagement_rows(session=session, trial=trial, engagements=found,
                                        with_ids=with_ids)
    notify(request.app.state.feed, session, trial, {
        "event": "engagements", "count": batch.count, "outcomes": _outcomes(found)})
    return found, batch


def _outcomes(found: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(n) for k, n in sorted(found["outcome"].value_counts().items())}


@router.post("/{trial_id}/engagements", response_model=list[EngagementPublic],
             status_code=status.HTTP_201_CREATED, openapi_extra=JSON_LIST_BODY,
             responses={413: REFUSED[413]},
             summary="Add engagements in bulk, a JSON list of up to 100,000 "
                     "(soldier of the unit; reviewer)")
async def add_engagements(request: Request, trial: TrialDep, session: SessionDep,
                          _user: TrialWriter) -> Response:
    body = await _body(request)
    found, batch = await run_in_threadpool(_record, request, session, trial,
                                           partial(rows.from_json_list, body), with_ids=True)
    return Response(_stored_json(found, batch, trial.id or 0), status.HTTP_201_CREATED,
                    media_type="application/json")


def _stored_json(found: pd.DataFrame, batch: EngagementBatch, trial_id: int) -> bytes:
    """The rows as `EngagementPublic` renders them, without a model per row."""
    assert batch.ids is not None
    created_at = json.loads(TypeAdapter(datetime).dump_json(batch.created_at))
    operating = found["operating_cost_cents"]
    items = [{"threat_kind": kind, "interceptors_used": used, "outcome": outcome,
              "time_to_intercept_s": None if math.isnan(seconds) else seconds, "id": row_id,
              "trial_id": trial_id, "threat_cost_eur": threat / 100,
              "operating_cost_eur": None if cost is None else cost / 100,
              "created_at": created_at}
             for kind, used, outcome, seconds, row_id, threat, cost in zip(
                 found["threat_kind"].tolist(), found["interceptors_used"].tolist(),
                 found["outcome"].tolist(), found["time_to_intercept_s"].tolist(),
                 batch.ids.tolist(), found["threat_cost_cents"].tolist(),
                 operating.astype(object).where(operating.notna(), None).tolist(), strict=True)]
    return json.dumps(items).encode()


@router.post("/{trial_id}/engagements/upload", response_model=EngagementUpload,
             status_code=status.HTTP_201_CREATED, openapi_extra=UPLOAD_BODY, responses=REFUSED,
             summary="Upload up to 100,000 engagements as JSON lines, CSV or Parquet "
                     "(soldier of the unit; reviewer)",
             description="Content-Type `application/x-ndjson` (one object a line), `text/csv` "
                         "(a header line naming the fields) or `application/vnd.apache.parquet`;"
                         " the fields are those of the JSON list. Every row is checked first: "
                         "one bad row writes nothing, and each error names its row (from 0).")
async def upload_engagements(request: Request, trial: TrialDep, session: SessionDep,
                             _user: TrialWriter) -> EngagementUpload:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    reader = rows.READERS.get(media)
    if reader is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "Content-Type: one of " + ", ".join(sorted(rows.READERS)))
    body = await _body(request)
    found, batch = await run_in_threadpool(_record, request, session, trial,
                                           partial(reader, body), with_ids=False)
    return EngagementUpload(trial_id=trial.id or 0, recorded=batch.count,
                            outcomes=_outcomes(found))


@router.get("/{trial_id}/engagements", response_model=list[EngagementPublic],
            summary="Engagements of a trial (soldier of the unit; reviewer, admin)")
def list_engagements(trial: TrialDep, session: SessionDep, page: PageDep,
                     _user: TrialReader) -> list[EngagementPublic]:
    rows: list[Engagement] = list(service.list_engagements(session=session, trial=trial,
                                                           page=page))
    audit_raw_read(session, f"trial:{trial.id} engagements")
    return [EngagementPublic.of(row) for row in rows]


@router.post("/{trial_id}/reports", response_model=ReportPublic,
             status_code=status.HTTP_201_CREATED,
             summary="File a report on a trial of your unit (soldier)")
def add_report(request: Request, trial: TrialDep, report_in: ReportCreate, session: SessionDep,
               user: SoldierUser) -> Report:
    report = service.add_report(session=session, trial=trial, report_in=report_in, by=user)
    notify(request.app.state.feed, session, trial, {"event": "report"})
    return report


@router.get("/{trial_id}/reports", response_model=list[ReportPublic],
            summary="Reports on a trial (soldier of the unit; reviewer, admin)")
def list_reports(trial: TrialDep, session: SessionDep, page: PageDep,
                 _user: TrialReader) -> list[Report]:
    reports = list(service.list_reports(session=session, trial=trial, page=page))
    audit_raw_read(session, f"trial:{trial.id} reports")
    return reports
