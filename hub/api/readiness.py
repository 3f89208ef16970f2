"""Readiness, sandbox decisions and safety findings (the Task Force Drones' record)."""

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, status

from hub.deps import (
    AnyUser,
    FindingRaiser,
    PrototypeDep,
    ReviewerOnly,
    ReviewerUser,
    SessionDep,
    VersionDep,
)
from hub.flows import loop
from sandbox import access, decisions
from sandbox.feedback import keep_words, roster
from sandbox.models import (
    Decision,
    DecisionCreate,
    DecisionPublic,
    Finding,
    FindingCreate,
    FindingPublic,
    FindingUpdate,
    Id,
    Role,
    User,
)
from sandbox.privacy import DecisionView, FindingView, decision_view, finding_view

router = APIRouter(tags=["readiness"])


@router.get("/versions/{version_id}/readiness",
            summary="TRL, sandbox status and gate results with reasons "
                    "(any role; engineers: own company only)")
def readiness(version: VersionDep, session: SessionDep, _user: AnyUser) -> dict[str, Any]:
    return asdict(decisions.readiness(session=session, version=version))


@router.post("/prototypes/{prototype_id}/decisions", response_model=DecisionPublic,
             status_code=status.HTTP_201_CREATED,
             summary="Decide a sandbox step, with rationale and conditions (reviewer)")
def decide(prototype: PrototypeDep, decision_in: DecisionCreate, session: SessionDep,
           user: ReviewerOnly) -> Decision:
    return decisions.decide(session=session, prototype=prototype, decision_in=decision_in,
                            by=user)


@router.get("/prototypes/{prototype_id}/decisions", response_model=list[DecisionView],
            summary="Decisions on a prototype (reviewer, admin: as recorded; engineer of the "
                    "company, soldier: rationale scrubbed, geofence in local metres, "
                    "who withheld, times to the week)")
def list_decisions(prototype: PrototypeDep, session: SessionDep,
                   user: AnyUser) -> list[DecisionView]:
    made = decisions.list_decisions(session=session, prototype=prototype)
    if access.sees_positions(user):
        return [DecisionView.model_validate(d, from_attributes=True) for d in made]
    names, keep = roster(session), keep_words(session, prototype.organisation_id)
    return [decision_view(d, roster=names, keep=keep) for d in made]


@router.post("/findings", response_model=FindingPublic, status_code=status.HTTP_201_CREATED,
             summary="Raise a safety finding; open findings block gates (soldier, reviewer)")
def raise_finding(finding_in: FindingCreate, session: SessionDep,
                  user: FindingRaiser) -> Finding:
    return decisions.raise_finding(session=session, finding_in=finding_in, by=user)


@router.get("/findings", response_model=list[FindingView],
            summary="Findings (reviewer, admin: all; soldier: own; engineer: own company's "
                    "prototypes, texts scrubbed, who withheld, times to the week)")
def list_findings(session: SessionDep, user: AnyUser,
                  prototype_id: Id | None = None) -> list[FindingView]:
    found = decisions.list_findings(session=session, by=user, prototype_id=prototype_id)
    if user.role != Role.engineer:
        return [FindingView.model_validate(f, from_attributes=True) for f in found]
    return _engineer_findings(session, user, found)


def _engineer_findings(session: SessionDep, user: User,
                       found: Sequence[Finding]) -> list[FindingView]:
    names, keep = roster(session), keep_words(session, user.organisation_id or 0)
    return [finding_view(f, roster=names, keep=keep) for f in found]


@router.patch("/findings/{finding_id}", response_model=FindingPublic,
              summary="Close or reopen a finding (reviewer)")
def update_finding(finding_id: Id, update: FindingUpdate, session: SessionDep,
                   user: ReviewerOnly) -> Finding:
    return decisions.close_finding(session=session, finding_id=finding_id, update=update,
                                   by=user)


@router.get("/loop-metrics",
            summary="The feedback loop's speed over the last 30 days: outcome to score, outcome "
                    "to engineer feed, submission to decision (count, median, 90th percentile "
                    "in seconds), prototypes waiting, and each recent decision timed from "
                    "submission (reviewer, admin)",
            description=loop.__doc__ or "")
def loop_metrics(session: SessionDep, _user: ReviewerUser) -> dict[str, Any]:
    found = loop.loop_metrics(session=session)
    return {**asdict(found),
            "median_seconds_to_first_decision": found.submission_to_decision.median_s,
            "prototypes": loop.recent_decisions(session=session, since=found.since)}
