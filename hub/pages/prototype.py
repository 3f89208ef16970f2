"""A prototype's page: versions and scores by condition, gates, the decision form, trials,
track and reports (reviewers raw; the owning company anonymised)."""

from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from hub.deps import SessionDep
from hub.flows.score_view import session_view
from hub.pages import charts
from hub.pages.common import field_errors, page, see_other
from hub.pages.session import (
    PageAnyone,
    PageDecider,
    check_csrf,
)
from hub.pages.track import latest_track
from hub.pages.words import count, status_words
from sandbox import decisions, service
from sandbox.errors import DomainError, Forbidden
from sandbox.feedback import (
    REPORT_COLUMNS,
    feedback_plan,
    frame_of,
    keep_words,
    report_chunks,
    roster,
)
from sandbox.models import (
    Conditions,
    DecisionCreate,
    Prototype,
    PrototypeKind,
    Report,
    Role,
    SandboxStatus,
    TelemetrySession,
    Trial,
    User,
    Version,
)
from sandbox.models.registry import REPORT_RATINGS
from sandbox.privacy import decision_view
from sandbox.readiness import ALLOWED_TRANSITIONS, GATED
from sandbox.scoring import VersionScore

router = APIRouter(include_in_schema=False)
# statuses nothing leaves: a reviewer confirms before choosing one (the rules are the domain's)
FINAL = frozenset(s for s, onward in ALLOWED_TRANSITIONS.items() if not onward)
CONFIRM = "confirm_final"


def _prototype_context(request: Request, session: Session, prototype: Prototype,
                       user: User) -> dict[str, Any]:
    versions = list(service.list_versions(session=session, prototype=prototype))
    view = session_view(session)  # engineers: library scenario names only, as in the API
    scored = [(v, service.version_score(session=session, version=v, view=view))
              for v in versions]
    latest = versions[-1] if versions else None
    current = decisions.current_status(session=session, prototype=prototype)
    raw = user.role in (Role.reviewer, Role.admin)
    return {
        "prototype": prototype, "status": current, "versions": _by_condition(scored),
        "chart": _cost_by_version(scored),
        "readiness": decisions.readiness(session=session, version=latest) if latest else None,
        "decisions": _decisions(session, prototype, raw),
        "can_decide": user.role == Role.reviewer,
        "options": _options(current), "final": FINAL, "gated": GATED,
        "trials": _trials(session, prototype) if raw else None,
        "track": latest_track(request, session, prototype),
        **_reports(request, session, prototype, raw),
        "feedback_links": user.role == Role.engineer, "form": {}, "errors": {}, "decided": "",
        "evidence": _evidence_links(prototype, versions),
    }


def _evidence_links(prototype: Prototype, versions: list[Version]) -> list[tuple[Version, bool]]:
    """(version, sensors link): detection and jammer figures for the kinds judged on them."""
    sensing = prototype.kind in (PrototypeKind.cuas_sensor, PrototypeKind.ew_system)
    return [(v, sensing) for v in versions]


def _options(current: SandboxStatus) -> list[SandboxStatus]:
    """The steps allowed from `current`, in the sandbox's own order (never alphabetical,
    which put the final 'rejected' first)."""
    return [step for step in SandboxStatus if step in ALLOWED_TRANSITIONS[current]]


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


TRIALS_SHOWN = 100  # the newest; a prototype simulated daily gathers thousands


def _trials(session: Session, prototype: Prototype) -> dict[str, Any]:
    """The newest trials with their outcomes and telemetry sessions, and how many in all."""
    of_prototype = (select(Trial).join(Version, col(Version.id) == col(Trial.version_id))
                    .where(Version.prototype_id == prototype.id))
    total = session.exec(select(func.count()).select_from(of_prototype.subquery())).one()
    trials = session.exec(of_prototype.order_by(col(Trial.id).desc()).limit(TRIALS_SHOWN)).all()
    outcomes = service.trial_outcomes(session=session, trials=trials)
    sessions: dict[int, list[int]] = {}
    for trial_id, session_id in session.exec(
            select(TelemetrySession.trial_id, TelemetrySession.id)
            .where(col(TelemetrySession.trial_id).in_([t.id for t in trials]))
            .order_by(col(TelemetrySession.id))).all():
        sessions.setdefault(trial_id, []).append(session_id or 0)
    return {"total": total, "rows": [
        (trial, ", ".join(f"{count(n)} {status_words(o)}" for o, n in sorted(
            outcomes.get(trial.id or 0, {}).items())), sessions.get(trial.id or 0, []))
        for trial in trials]}


def _reports(request: Request, session: Session, prototype: Prototype,
             raw: bool) -> dict[str, Any]:
    """Reports: raw for the task force; for the company, the released ones and what the
    anonymity threshold still holds back."""
    if raw:
        found = session.exec(select(Report).join(Trial, col(Trial.id) == col(Report.trial_id))
                             .join(Version, col(Version.id) == col(Trial.version_id))
                             .where(Version.prototype_id == prototype.id)
                             .order_by(col(Report.id).desc()).limit(REPORTS_SHOWN)).all()
        return {"held": None, "reports": [_said(r.model_dump()) for r in found]}
    settings = request.app.state.settings
    plan = feedback_plan(session=session, prototype=prototype,
                         master_secret=request.app.state.secret.encode(),
                         k=settings.k_anonymity, l=settings.l_diversity)
    rows = frame_of(_first_rows(report_chunks(session, plan), REPORTS_SHOWN),
                    REPORT_COLUMNS).head(REPORTS_SHOWN).to_dict(orient="records")
    return {"held": plan.held_back, "reports": [_said(row) for row in rows]}


REPORTS_SHOWN = 100  # the page shows the newest (task force) or first released (company)


def _first_rows(chunks: Iterable[pd.DataFrame], rows: int) -> Iterator[pd.DataFrame]:
    """Chunks until `rows` rows are out: the page never reads a whole history (and the
    reader, which may hold a cursor, is closed then, not when collected)."""
    reader = iter(chunks)
    try:
        for chunk in reader:
            yield chunk
            rows -= len(chunk)
            if rows <= 0:
                return
    finally:
        if isinstance(reader, Generator):
            reader.close()


def _said(report: dict[str, Any]) -> dict[str, Any]:
    """A report's given ratings (blank ones left out, null or NA alike) and its text."""
    ratings = {name: int(report[name]) for name in REPORT_RATINGS
               if not pd.isna(report.get(name))}
    return {"ratings": ratings, "text": report.get("text") or ""}


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


def _unconfirmed(form: dict[str, str]) -> dict[str, str]:
    """No status chosen, or a final one without its confirmation: nothing is recorded."""
    chosen = form.get("to_status", "")
    if not chosen:
        return {"to_status": "choose the new status"}
    if chosen in FINAL and form.get(CONFIRM) != "yes":
        return {CONFIRM: f"{chosen} is final: tick 'I understand this is final' to record it"}
    return {}


@router.post("/prototypes/{prototype_id}/decide")
async def decide(request: Request, prototype_id: int, session: SessionDep,
                 user: PageDecider) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.pop("csrf", ""))
    prototype = _visible_prototype(session, prototype_id, user)
    errors = _unconfirmed(form)
    try:
        conditions = Conditions(altitude_ceiling_m=form.get("altitude_ceiling_m") or None)
    except ValidationError as error:
        errors["altitude_ceiling_m"] = error.errors()[0]["msg"]
        conditions = Conditions()
    try:
        decision_in = DecisionCreate(to_status=form.get("to_status", ""),
                                     rationale=form.get("rationale", ""), conditions=conditions,
                                     expires_at=form.get("expires_at") or None,
                                     override_gate=form.get("override_gate") == "yes")
    except ValidationError as error:
        errors = field_errors(error) | errors  # ours say it in words: they win
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


