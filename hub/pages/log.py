"""The soldiers' trial log: one phone-sized form for a trial, its engagements and a report."""

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from hub.deps import SessionDep
from hub.flows.feed import notify
from hub.pages.common import field_errors, page, see_other
from hub.pages.session import (
    PageSoldier,
    check_csrf,
)
from sandbox import service
from sandbox.errors import DomainError
from sandbox.models import (
    EngagementCreate,
    Prototype,
    ReportCreate,
    TrialCreate,
    User,
    Version,
)

router = APIRouter(include_in_schema=False)


LOG_DEFAULTS = {"kind": "field", "scenario": "", "simulator": "", "threat_kind": "shahed_136",
                "threat_cost_eur": "35000", "interceptors_used": "1", "intercept": "0",
                "miss": "0", "abort": "0", "effectiveness": "", "ease_of_use": "",
                "reliability": "", "text": "", "version_id": ""}


def _log_page(request: Request, session: Session, user: User, *, form: dict[str, str],
              errors: dict[str, str], logged: str = "", code: int = 200) -> Response:
    pairs = session.exec(select(Version, Prototype).join(
        Prototype, col(Prototype.id) == col(Version.prototype_id)).order_by(col(Version.id))).all()
    return page(request, "log.html", user, code=code, versions=pairs, form=form, errors=errors,
                logged=logged)


@router.get("/log")
def log_form(request: Request, session: SessionDep, user: PageSoldier,
             logged: str = "") -> Response:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    return _log_page(request, session, user, form={**LOG_DEFAULTS, "started_at": now},
                     errors={}, logged=logged)


@router.post("/log")
async def log_trial(request: Request, session: SessionDep, user: PageSoldier) -> Response:
    form = {**LOG_DEFAULTS, **{k: str(v) for k, v in (await request.form()).items()}}
    check_csrf(request, form.pop("csrf", ""))
    trial_in, engagements, report_in, errors = _parse_log(form)
    if not errors:
        try:
            assert trial_in is not None
            trial = service.create_trial(session=session, trial_in=trial_in, by=user)
        except DomainError as error:
            errors["version_id"] = str(error).split(": ", 1)[-1]
    if errors:
        return _log_page(request, session, user, form=form, errors=errors, code=422)
    service.add_engagements(session=session, trial=trial, engagements_in=engagements)
    if report_in is not None:
        service.add_report(session=session, trial=trial, report_in=report_in, by=user)
    notify(request.app.state.feed, session, trial,
           {"event": "engagements", "count": len(engagements)})
    return see_other(f"/log?logged={trial.id}")


def _parse_log(form: dict[str, str]) -> tuple[TrialCreate | None, list[EngagementCreate],
                                               ReportCreate | None, dict[str, str]]:
    """Validate every part before anything is written; errors by form field."""
    errors: dict[str, str] = {}
    trial_in = engagement = report_in = None
    try:
        trial_in = TrialCreate(version_id=form["version_id"] or 0, kind=form["kind"],
                               scenario=form["scenario"], simulator=form["simulator"] or None,
                               started_at=form.get("started_at") or "")
    except ValidationError as error:
        errors.update(field_errors(error))
    try:
        engagement = EngagementCreate(threat_kind=form["threat_kind"], outcome="intercept",
                                      threat_cost_eur=Decimal(form["threat_cost_eur"] or "x"),
                                      interceptors_used=form["interceptors_used"])
    except ValidationError as error:
        errors.update(field_errors(error))
    except ArithmeticError:
        errors["threat_cost_eur"] = "a number of euros, e.g. 35000"
    counts = {}
    for outcome in ("intercept", "miss", "abort"):
        value = form[outcome].strip() or "0"
        if not (value.isascii() and value.isdigit()) or int(value) > 1000:  # not "²"
            errors[outcome] = "a whole number from 0 to 1000"
        else:
            counts[outcome] = int(value)
    if len(counts) == 3 and sum(counts.values()) == 0:
        errors["engagements"] = "record at least one engagement (intercepts, misses or aborts)"
    if any(form[r] for r in ("effectiveness", "ease_of_use", "reliability")):
        try:
            report_in = ReportCreate(effectiveness=form["effectiveness"] or 0,
                                     ease_of_use=form["ease_of_use"] or 0,
                                     reliability=form["reliability"] or 0, text=form["text"])
        except ValidationError as error:
            errors.update(field_errors(error))
    rows = [] if errors or engagement is None else [
        engagement.model_copy(update={"outcome": outcome, "time_to_intercept_s": None})
        for outcome, n in counts.items() for _ in range(n)]
    return trial_in, rows, report_in, errors


