"""The engineers' page: own prototypes, released feedback, what is held back, the budget."""


import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.feedback import download
from hub.deps import SessionDep, SettingsDep
from hub.flows.privacy import budget_of, budget_public
from hub.pages.common import page
from hub.pages.session import (
    PageEngineer,
)
from sandbox import service
from sandbox.feedback import (
    feedback_plan,
    release_status,
)
from sandbox.service import Page

router = APIRouter(include_in_schema=False)


@router.get("/engineer")
def engineer_home(request: Request, session: SessionDep, settings: SettingsDep,
                  user: PageEngineer) -> Response:
    mine = service.list_prototypes(session=session, by=user, page=Page(limit=500))
    secret = request.app.state.secret.encode()
    releases = [(p, *release_status(session=session, prototype=p, master_secret=secret,
                                    k=settings.k_anonymity, l=settings.l_diversity))
                for p in mine]
    budget = budget_public(budget_of(session, user.organisation_id or 0,
                                     settings.privacy_budget_epsilon))
    return page(request, "engineer.html", user, releases=releases, budget=budget)


@router.get("/prototypes/{prototype_id}/feedback.csv")
def feedback_csv(request: Request, prototype_id: int, session: SessionDep,
                 settings: SettingsDep, user: PageEngineer) -> Response:
    prototype = service.get_prototype(session=session, prototype_id=prototype_id, by=user)
    plan = feedback_plan(session=session, prototype=prototype,
                         master_secret=request.app.state.secret.encode(),
                         k=settings.k_anonymity, l=settings.l_diversity)
    return download(request.app.state.engine, plan, pd.DataFrame(), "csv", "engagements")


