"""Server-rendered pages: reviewer dashboard, prototype page, soldier's trial log, engineer's
page. The same accounts and rules as the API; forms carry a CSRF token bound to the session."""

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from importlib.resources import files
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlmodel import Session, col, select

from hub.api.feedback import download
from hub.auth import issue_token
from hub.deps import SessionDep, SettingsDep
from hub.flows.feed import notify
from hub.flows.privacy import budget_of, budget_public
from hub.pages import charts
from hub.pages.session import (
    COOKIE,
    PageAnyone,
    PageDecider,
    PageEngineer,
    PageReviewer,
    PageSoldier,
    check_csrf,
)
from hub.pages.track import latest_track
from hub.ws.registry import token_subject
from sandbox import accounts, decisions, service
from sandbox.errors import DomainError, Forbidden
from sandbox.feedback import (
    REPORT_COLUMNS,
    feedback_plan,
    frame_of,
    keep_words,
    release_status,
    report_chunks,
    roster,
)
from sandbox.models import (
    Conditions,
    DecisionCreate,
    EngagementCreate,
    Prototype,
    PrototypeKind,
    Report,
    ReportCreate,
    Role,
    Trial,
    TrialCreate,
    User,
    Version,
)
from sandbox.privacy import decision_view
from sandbox.readiness import ALLOWED_TRANSITIONS
from sandbox.scoring import VersionScore
from sandbox.service import Page

templates = Jinja2Templates(directory=str(files("hub") / "pages" / "templates"))
router = APIRouter(include_in_schema=False)
HOME = {Role.reviewer: "/dashboard", Role.admin: "/dashboard", Role.soldier: "/log",
        Role.engineer: "/engineer"}


def page(request: Request, name: str, user: User | None, *, code: int = 200,
         **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {
        "user": user, "csrf": getattr(request.state, "csrf", ""), **context}, status_code=code)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", None, username="", error="")


@router.post("/login")
async def log_in(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    name, password = str(form.get("username", "")), str(form.get("password", ""))
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    user = None
    if not throttle.retry_after_s(address):
        user = accounts.authenticate(session=session, name=name, password=password,
                                     source=address).user
    if user is None:
        throttle.failed(address)
        return page(request, "login.html", None, code=401, username=name,
                    error="Wrong user name or password (or too many tries: wait a minute).")
    response = see_other(HOME[user.role])
    response.set_cookie(COOKIE, issue_token(user, secret=request.app.state.secret,
                                            ttl_s=settings.token_ttl_s),
                        max_age=settings.token_ttl_s, httponly=True, samesite="strict",
                        secure=settings.mode == "production")
    return response


@router.post("/logout")
async def log_out(request: Request, session: SessionDep, _user: PageAnyone) -> Response:
    check_csrf(request, str((await request.form()).get("csrf", "")))
    claims = request.state.token_claims
    accounts.revoke_token(session=session, jti=claims["jti"],
                          expires_at=datetime.fromtimestamp(claims["exp"], UTC))
    request.app.state.sockets.close(token_subject(claims["jti"]), "logged out")
    response = see_other("/login")
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def home(user: PageAnyone) -> Response:
    return see_other(HOME[user.role])


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep, user: PageReviewer) -> Response:
    boards = sorted((where, [row for row in rows if row.score.pk is not None])
                    for where, rows in service.scenario_boards(session=session, by=user).items())
    plots = [(where, charts.cost_vs_pk([
        charts.Point(label=f"{row.prototype.name} {row.version.version}", pk=row.score.pk or 0.0,
                     pk_low=row.score.pk_low or 0.0, pk_high=row.score.pk_high or 0.0,
                     cost_eur=float(row.score.cost_per_intercept_eur or 0),
                     baseline=row.prototype.kind == PrototypeKind.baseline)
        for row in rows if row.score.cost_per_intercept_eur]))
        for where, rows in boards if any(row.score.cost_per_intercept_eur for row in rows)]
    return page(request, "dashboard.html", user, boards=boards, charts=plots,
                queue=decisions.decision_queue(session=session))


def _prototype_context(request: Request, session: Session, prototype: Prototype,
                       user: User) -> dict[str, Any]:
    versions = list(service.list_versions(session=session, prototype=prototype))
    scored = [(v, service.version_score(session=session, version=v)) for v in versions]
    latest = versions[-1] if versions else None
    current = decisions.current_status(session=session, prototype=prototype)
    raw = user.role in (Role.reviewer, Role.admin)
    return {
        "prototype": prototype, "status": current, "versions": _by_condition(scored),
        "chart": _cost_by_version(scored),
        "readiness": decisions.readiness(session=session, version=latest) if latest else None,
        "decisions": _decisions(session, prototype, raw),
        "can_decide": user.role == Role.reviewer,
        "options": sorted(ALLOWED_TRANSITIONS[current]),
        "trials": _trials(session, prototype) if raw else None,
        "track": latest_track(request, session, prototype),
        "reports": _reports(request, session, prototype, raw),
        "feedback_links": user.role == Role.engineer, "form": {}, "errors": {}, "decided": "",
    }


def _decisions(session: Session, prototype: Prototype, raw: bool) -> list[Any]:
    made = decisions.list_decisions(session=session, prototype=prototype)
    if raw:
        return list(made)
    names, keep = roster(session), keep_words(session, prototype.organisation_id)
    return [decision_view(d, roster=names, keep=keep) for d in made]


def _by_condition(scored: list[tuple[Version, VersionScore]]) -> list[tuple[Version, str, Any]]:
    """(version, condition, score) rows: a version's scores never mixed across scenarios."""
    return [(version, f"{scenario} · {threat} · {kind}", item)
            for version, result in scored
            for scenario, threats in result.by_scenario.items()
            for threat, kinds in threats.items() for kind, item in kinds.items()]


def _cost_by_version(scored: list[tuple[Version, VersionScore]]) -> str:
    """How the cost per intercept moved, on the condition with the most evidence."""
    evidence: Counter[tuple[str, str, str]] = Counter()
    for _, result in scored:
        for scenario, threats in result.by_scenario.items():
            for threat, kinds in threats.items():
                for kind, item in kinds.items():
                    evidence[(scenario, threat, kind)] += item.engagements
    if not evidence:
        return charts.line([], label="")
    scenario, threat, kind = evidence.most_common(1)[0][0]
    values = [(version.version, result.by_scenario.get(scenario, {}).get(threat, {}).get(kind))
              for version, result in scored]
    return charts.line([(name, float(item.cost_per_intercept_eur)) for name, item in values
                        if item is not None and item.cost_per_intercept_eur is not None],
                       label=f"cost per intercept (EUR) by version: {scenario}, {threat}, "
                             f"{kind} trials")


def _trials(session: Session, prototype: Prototype) -> list[tuple[Trial, str]]:
    trials = session.exec(select(Trial).join(Version, col(Version.id) == col(Trial.version_id))
                          .where(Version.prototype_id == prototype.id)
                          .order_by(col(Trial.id))).all()
    outcomes = service.trial_outcomes(session=session, trials=trials)
    return [(trial, ", ".join(f"{n} {o}" for o, n in sorted(
        outcomes.get(trial.id or 0, {}).items()))) for trial in trials]


def _reports(request: Request, session: Session, prototype: Prototype,
             raw: bool) -> list[Any]:
    if raw:
        return list(session.exec(select(Report).join(Trial, col(Trial.id) == col(
            Report.trial_id)).join(Version, col(Version.id) == col(Trial.version_id)).where(
            Version.prototype_id == prototype.id)).all())
    settings = request.app.state.settings
    plan = feedback_plan(session=session, prototype=prototype,
                         master_secret=request.app.state.secret.encode(),
                         k=settings.k_anonymity, l=settings.l_diversity)
    return frame_of(report_chunks(session, plan), REPORT_COLUMNS).to_dict(orient="records")


def _visible_prototype(session: Session, prototype_id: int, user: User) -> Prototype:
    if user.role == Role.soldier:
        raise Forbidden("prototype pages are for reviewers and the owning company")
    return service.get_prototype(session=session, prototype_id=prototype_id, by=user)


@router.get("/prototypes/{prototype_id}")
def prototype_page(request: Request, prototype_id: int, session: SessionDep,
                   user: PageAnyone, decided: str = "") -> Response:
    prototype = _visible_prototype(session, prototype_id, user)
    context = _prototype_context(request, session, prototype, user)
    context["decided"] = decided
    return page(request, "prototype.html", user, **context)


@router.post("/prototypes/{prototype_id}/decide")
async def decide(request: Request, prototype_id: int, session: SessionDep,
                 user: PageDecider) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.pop("csrf", ""))
    prototype = _visible_prototype(session, prototype_id, user)
    errors: dict[str, str] = {}
    try:
        conditions = Conditions(altitude_ceiling_m=form.get("altitude_ceiling_m") or None)
    except ValidationError as error:
        errors["altitude_ceiling_m"] = error.errors()[0]["msg"]
        conditions = Conditions()
    try:
        decision_in = DecisionCreate(to_status=form.get("to_status", ""),
                                     rationale=form.get("rationale", ""), conditions=conditions,
                                     expires_at=form.get("expires_at") or None)
    except ValidationError as error:
        errors.update(_field_errors(error))
    if not errors:
        try:
            made = decisions.decide(session=session, prototype=prototype,
                                    decision_in=decision_in, by=user)
            return see_other(f"/prototypes/{prototype_id}?decided={made.to_status}")
        except DomainError as error:
            errors["to_status"] = str(error)
    context = _prototype_context(request, session, prototype, user)
    context.update(form=form, errors=errors)
    return page(request, "prototype.html", user, code=422, **context)


def _field_errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = item["msg"].removeprefix("Value error, ")
        if ":" in message and not item["loc"]:
            field, message = message.split(":", 1)
        found.setdefault(field, message.strip())
    return found


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
        errors.update(_field_errors(error))
    try:
        engagement = EngagementCreate(threat_kind=form["threat_kind"], outcome="intercept",
                                      threat_cost_eur=Decimal(form["threat_cost_eur"] or "x"),
                                      interceptors_used=form["interceptors_used"])
    except ValidationError as error:
        errors.update(_field_errors(error))
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
            errors.update(_field_errors(error))
    rows = [] if errors or engagement is None else [
        engagement.model_copy(update={"outcome": outcome, "time_to_intercept_s": None})
        for outcome, n in counts.items() for _ in range(n)]
    return trial_in, rows, report_in, errors


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


def html_error(request: Request, code: int, detail: str) -> Response:
    return page(request, "error.html", None, code=code, status=code, detail=detail)

