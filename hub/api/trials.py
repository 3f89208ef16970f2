"""Trials, their engagements and reports: soldiers log them; reviewers and admins read all."""

from collections import Counter
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Request, status

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
from sandbox.service import TrialFilter

router = APIRouter(prefix="/trials", tags=["trials"])

MAX_ENGAGEMENTS_PER_POST = 10_000


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


@router.post("/{trial_id}/engagements", response_model=list[EngagementPublic],
             status_code=status.HTTP_201_CREATED,
             summary="Add engagements in bulk, a JSON list (soldier of the unit; reviewer)")
def add_engagements(
        request: Request, trial: TrialDep, session: SessionDep, _user: TrialWriter,
        engagements_in: Annotated[list[EngagementCreate],
                                  Body(min_length=1, max_length=MAX_ENGAGEMENTS_PER_POST)],
) -> list[EngagementPublic]:
    rows = service.add_engagements(session=session, trial=trial, engagements_in=engagements_in)
    outcomes = Counter(str(row.outcome) for row in rows)
    notify(request.app.state.feed, session, trial, {"event": "engagements", "count": len(rows),
                                      "outcomes": dict(sorted(outcomes.items()))})
    return [EngagementPublic.of(row) for row in rows]


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
