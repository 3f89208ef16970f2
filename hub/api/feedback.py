"""Anonymised feedback of a prototype (owning engineer; reviewer, admin), streamed."""

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from hub.deps import EngineerUser, FeedbackUser, PrototypeDep, SessionDep, SettingsDep
from hub.flows.feedback import (
    PARTS,
    columns_of,
    csv_stream,
    json_stream,
    parquet_stream,
    part_chunks,
    sensor_summaries,
    telemetry_summaries,
)
from hub.flows.privacy import budget_of, budget_public, private_feedback
from sandbox import access
from sandbox.feedback import FeedbackPlan, feedback_plan
from sandbox.models import Prototype, Role
from sandbox.timeutil import utcnow

router = APIRouter(tags=["feedback"])
MEDIA = {"json": "application/json", "csv": "text/csv",
         "parquet": "application/vnd.apache.parquet"}


def feedback_bytes(engine: Engine, plan: FeedbackPlan, telemetry: pd.DataFrame, fmt: str,
                   part: str, sensors: pd.DataFrame | None = None, *,
                   json_part_only: bool = False) -> Iterator[bytes]:
    """The feedback as it is downloaded: every part in JSON (sensors when read; only `part`
    with `json_part_only`), or one part as CSV or Parquet."""
    if fmt == "json":
        names = [part] if json_part_only else [
            name for name in PARTS if name != "sensors" or sensors is not None]
        return json_stream({name: part_chunks(engine, plan, name, telemetry, sensors)
                            for name in names}, plan.note())
    chunks = part_chunks(engine, plan, part, telemetry, sensors)
    if fmt == "csv":
        return csv_stream(chunks, columns_of(part, telemetry))
    return parquet_stream(chunks, part)


def download_name(prototype: Prototype, part: str, fmt: str) -> str:
    """'hornet-engagements-2026-12-03.csv': whose, which part and which day, so that files
    downloaded over weeks do not overwrite each other. ASCII only, as every browser takes."""
    slug = re.sub(r"[^a-z0-9]+", "-", prototype.name.lower()).strip("-")
    return f"{slug or f'prototype-{prototype.id}'}-{part}-{utcnow():%Y-%m-%d}.{fmt}"


def download(engine: Engine, plan: FeedbackPlan, telemetry: pd.DataFrame, fmt: str,
             part: str, prototype: Prototype,
             sensors: pd.DataFrame | None = None) -> StreamingResponse:
    headers = {} if fmt == "json" else {
        "Content-Disposition": f'attachment; filename="{download_name(prototype, part, fmt)}"'}
    return StreamingResponse(feedback_bytes(engine, plan, telemetry, fmt, part, sensors),
                             media_type=MEDIA[fmt], headers=headers)


@router.get("/prototypes/{prototype_id}/feedback",
            summary="Anonymised engagements, reports, flight summaries and sensor and jammer "
                    "figures of a prototype, released in k-anonymous batches (owning engineer; "
                    "reviewer, admin)")
def feedback(request: Request, prototype: PrototypeDep, session: SessionDep,
             settings: SettingsDep, user: FeedbackUser,
             format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
             part: Annotated[Literal["engagements", "reports", "telemetry", "sensors"],
                             Query()] = "engagements",
             ) -> StreamingResponse:
    if user.role == Role.engineer:
        access.check_prototype_owner(user, prototype)
    secret = request.app.state.secret.encode()
    plan = feedback_plan(session=session, prototype=prototype, master_secret=secret,
                         k=settings.k_anonymity, l=settings.l_diversity)
    telemetry = telemetry_summaries(session=session, prototype=prototype, master_secret=secret,
                                    storage=settings.storage())
    sensors = sensor_summaries(session=session, plan=plan, storage=settings.storage(),
                               geoid_grid=settings.geoid_grid) \
        if format == "json" or part == "sensors" else None  # it scores each sensor trial
    return download(request.app.state.engine, plan, telemetry, format, part, prototype,
                    sensors)


@router.get("/prototypes/{prototype_id}/private-aggregates",
            summary="Pk, failures and ratings per version and week or month, differentially "
                    "private for each soldier; charged to the company's privacy budget, "
                    "403 with what is left once spent (owning engineer)")
def private_aggregates(prototype: PrototypeDep, session: SessionDep, settings: SettingsDep,
                       user: EngineerUser,
                       period: Annotated[Literal["week", "month"], Query()] = "week",
                       periods: Annotated[int, Query(ge=1, le=52)] = 8,
                       epsilon: Annotated[float, Query(ge=0.05, le=2.0)] = 0.5,
                       ) -> dict[str, Any]:
    access.check_prototype_owner(user, prototype)
    return private_feedback(session=session, prototype=prototype, period=period,
                            periods=periods, epsilon=epsilon,
                            budget_total=settings.privacy_budget_epsilon)


@router.get("/privacy-budget",
            summary="Your company's differential-privacy budget and what is spent (engineer)")
def privacy_budget(session: SessionDep, settings: SettingsDep,
                   user: EngineerUser) -> dict[str, Any]:
    return budget_public(budget_of(session, user.organisation_id or 0,
                                   settings.privacy_budget_epsilon))
