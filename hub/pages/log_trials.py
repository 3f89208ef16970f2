"""The soldier's own trials: what was sent, and adding to it within the API's rules (more
engagements, another report; nothing recorded is changed or deleted, as the API allows)."""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.deps import SessionDep, audit_raw_read
from hub.flows.feed import notify
from hub.pages.common import page, see_other
from hub.pages.i18n import gettext_for
from hub.pages.log_form import (
    DEFAULTS,
    OTHER,
    parse_engagements,
    parse_report,
    threat_cost_eur,
    value_names,
)
from hub.pages.session import PageSoldier, check_csrf
from sandbox import service
from sandbox.models import (
    Engagement,
    Id,
    Prototype,
    Report,
    Trial,
    User,
    Version,
)
from sandbox.models.registry import REPORT_RATINGS
from sandbox.money import to_eur
from simulators.threats import THREATS

router = APIRouter(include_in_schema=False)
RECENT = 10


@dataclass(frozen=True)
class SentTrial:
    trial: Trial
    version: str  # prototype name and version, as the soldier chose it
    outcomes: dict[str, int]
    reports: int


def recent_trials(session: Session, user: User) -> list[SentTrial]:
    """The soldier's own last trials, newest first, with what each recorded."""
    rows = session.exec(
        select(Trial, Version, Prototype)
        .join(Version, col(Version.id) == col(Trial.version_id))
        .join(Prototype, col(Prototype.id) == col(Version.prototype_id))
        .where(Trial.created_by_id == user.id).order_by(col(Trial.id).desc()).limit(RECENT)).all()
    trials = [trial for trial, _v, _p in rows]
    outcomes = service.trial_outcomes(session=session, trials=trials)
    reports = dict(session.exec(select(Report.trial_id, func.count()).where(
        col(Report.trial_id).in_([t.id for t in trials])).group_by(col(Report.trial_id))).all())
    return [SentTrial(trial, f"{prototype.name} {version.version}", outcomes.get(trial.id or 0, {}),
                      reports.get(trial.id, 0)) for trial, version, prototype in rows]


def _own_trial(session: Session, user: User, trial_id: int) -> Trial | None:
    trial = session.get(Trial, trial_id)
    return trial if trial is not None and trial.created_by_id == user.id else None


def _trial_page(request: Request, session: Session, user: User, trial: Trial, *,
                form: dict[str, str], errors: dict[str, str], added: str = "",
                code: int = 200) -> Response:
    audit_raw_read(session, f"trial:{trial.id} engagements and reports")
    groups = session.exec(
        select(Engagement.threat_kind, Engagement.outcome, Engagement.threat_cost_cents,
               Engagement.interceptors_used, func.count())
        .where(Engagement.trial_id == trial.id)
        .group_by(col(Engagement.threat_kind), col(Engagement.outcome),
                  col(Engagement.threat_cost_cents), col(Engagement.interceptors_used))
        .order_by(col(Engagement.threat_kind), col(Engagement.outcome))).all()
    engagements = [(kind, str(outcome), to_eur(cost), used, n)
                   for kind, outcome, cost, used, n in groups]
    reports = session.exec(select(Report).where(Report.trial_id == trial.id)
                           .order_by(col(Report.id))).all()
    version = session.get(Version, trial.version_id)
    prototype = session.get(Prototype, version.prototype_id) if version else None
    return page(request, "log_trial.html", user, code=code, trial=trial, version=version,
                prototype=prototype, engagements=engagements, reports=reports,
                ratings=REPORT_RATINGS, form=form, errors=errors, added=added,
                threats=THREATS, other=OTHER, threat_cost_eur=threat_cost_eur,
                names=value_names(gettext_for(request)))


def _not_found(request: Request, user: User, trial_id: int) -> Response:
    _ = gettext_for(request)
    detail = _("You sent no trial {id}: see your trials on /log.")
    return page(request, "error.html", user, code=404, status=404,
                detail=detail.format(id=trial_id))


@router.get("/log/trials/{trial_id}")
def sent_trial(request: Request, session: SessionDep, user: PageSoldier, trial_id: Id,
               added: str = "") -> Response:
    trial = _own_trial(session, user, trial_id)
    if trial is None:
        return _not_found(request, user, trial_id)
    form = {**DEFAULTS, "intercept": "0"}
    return _trial_page(request, session, user, trial, form=form, errors={}, added=added)


@router.post("/log/trials/{trial_id}")
async def add_to_trial(request: Request, session: SessionDep, user: PageSoldier,
                       trial_id: Id) -> Response:
    """More engagements, or another report (a correction is a report saying so)."""
    form = {**DEFAULTS, **{k: str(v) for k, v in (await request.form()).items()}}
    check_csrf(request, form.pop("csrf", ""))
    trial = _own_trial(session, user, trial_id)
    if trial is None:
        return _not_found(request, user, trial_id)
    errors: dict[str, str] = {}
    _ = gettext_for(request)
    if form.get("part") == "report":
        report = parse_report(form, errors, _)
        if report is None and not errors:
            errors["text"] = _("write what happened, or give at least one rating")
        if errors or report is None:
            return _trial_page(request, session, user, trial, form=form, errors=errors, code=422)
        service.add_report(session=session, trial=trial, report_in=report, by=user)
        notify(request.app.state.feed, session, trial, {"event": "report"})
        return see_other(f"/log/trials/{trial.id}?added=report")
    engagements = parse_engagements(form, errors, _)
    if errors:
        return _trial_page(request, session, user, trial, form=form, errors=errors, code=422)
    service.add_engagements(session=session, trial=trial, engagements_in=engagements)
    notify(request.app.state.feed, session, trial,
           {"event": "engagements", "count": len(engagements)})
    return see_other(f"/log/trials/{trial.id}?added=engagements")
