"""The engineers' page: each own prototype with its versions and evidence, the feedback
released and what is held back, the downloads, and the company's privacy budget."""

from dataclasses import dataclass
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from hub.api.feedback import download
from hub.deps import SessionDep, SettingsDep
from hub.flows.feedback import sensor_summaries, telemetry_summaries
from hub.flows.privacy import budget_of, budget_public
from hub.pages.common import page
from hub.pages.session import (
    PageEngineer,
)
from hub.settings import Settings
from sandbox import decisions, service
from sandbox.feedback import (
    HeldBack,
    feedback_plan,
    release_status,
)
from sandbox.models import Prototype, Version
from sandbox.service import Page

router = APIRouter(include_in_schema=False)
PARTS = {"engagements": "engagements", "reports": "reports", "telemetry": "flight summaries",
         "sensors": "sensor and jammer figures"}


@dataclass(frozen=True)
class Overview:
    """One prototype as its company sees it on the page."""

    prototype: Prototype
    versions: list[tuple[Version, dict[str, int]]]  # engagements by trial kind
    trl: int | None
    batches: int
    held: HeldBack


def _overview(request: Request, session: Session, settings: Settings,
              prototype: Prototype) -> Overview:
    # first: it cuts a batch if one is due, so that the figures below count it
    batches, held = release_status(session=session, prototype=prototype,
                                   master_secret=request.app.state.secret.encode(),
                                   k=settings.k_anonymity, l=settings.l_diversity)
    versions = list(service.list_versions(session=session, prototype=prototype))
    evidence = [(v, {kind: s.engagements for kind, s in service.version_score(
        session=session, version=v).by_trial_kind.items()}) for v in versions]
    trl = decisions.readiness(session=session, version=versions[-1]).trl if versions else None
    return Overview(prototype, evidence, trl, batches, held)


@router.get("/engineer")
def engineer_home(request: Request, session: SessionDep, settings: SettingsDep,
                  user: PageEngineer) -> Response:
    mine = service.list_prototypes(session=session, by=user, page=Page(limit=500))
    budget = budget_public(budget_of(session, user.organisation_id or 0,
                                     settings.privacy_budget_epsilon))
    return page(request, "engineer.html", user, parts=PARTS, budget=budget,
                prototypes=[_overview(request, session, settings, p) for p in mine],
                needed_people=settings.k_anonymity)


@router.get("/prototypes/{prototype_id}/feedback.csv")
def feedback_csv(request: Request, prototype_id: int, session: SessionDep,
                 settings: SettingsDep, user: PageEngineer,
                 part: Annotated[Literal["engagements", "reports", "telemetry", "sensors"],
                                 Query()] = "engagements") -> Response:
    prototype = service.get_prototype(session=session, prototype_id=prototype_id, by=user)
    secret = request.app.state.secret.encode()
    plan = feedback_plan(session=session, prototype=prototype, master_secret=secret,
                         k=settings.k_anonymity, l=settings.l_diversity)
    telemetry = (telemetry_summaries(session=session, prototype=prototype, master_secret=secret,
                                     storage=settings.storage())
                 if part == "telemetry" else pd.DataFrame())
    sensors = (sensor_summaries(session=session, plan=plan, storage=settings.storage(),
                                geoid_grid=settings.geoid_grid)
               if part == "sensors" else None)  # it scores each sensor trial: only when asked
    return download(request.app.state.engine, plan, telemetry, "csv", part, prototype,
                    sensors=sensors)
