"""The soldiers' trial log: one phone-sized form for a trial, its engagements and a report,
and the soldier's own recent trials under it."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from hub.deps import SessionDep
from hub.flows.feed import notify
from hub.pages import log_trials
from hub.pages.common import page, see_other
from hub.pages.i18n import gettext_for
from hub.pages.log_form import DEFAULTS, OTHER, parse_log, threat_cost_eur, value_names
from hub.pages.session import PageSoldier, check_csrf
from sandbox import access, service
from sandbox.errors import DomainError
from sandbox.models import Engagement, Prototype, PrototypeKind, Trial, User, Version
from simulators.threats import THREATS

router = APIRouter(include_in_schema=False)
router.include_router(log_trials.router)


def _versions(session: Session, user: User) -> dict[str, list[tuple[Version, Prototype]]]:
    """The versions a soldier may log, prototypes apart from the baselines they compare with."""
    pairs = session.exec(select(Version, Prototype).join(
        Prototype, col(Prototype.id) == col(Version.prototype_id))
        .order_by(col(Prototype.name), col(Version.id))).all()
    groups: dict[str, list[tuple[Version, Prototype]]] = {"prototypes": [], "baselines": []}
    for version, prototype in pairs:
        if access.can_see_prototype(user, prototype):
            baseline = prototype.kind == PrototypeKind.baseline
            groups["baselines" if baseline else "prototypes"].append((version, prototype))
    return groups


def _last_choice(session: Session, user: User) -> dict[str, str]:
    """The soldier's last trial's version and setting: the next trial is most often alike."""
    last = session.exec(select(Trial).where(Trial.created_by_id == user.id)
                        .order_by(col(Trial.id).desc()).limit(1)).first()
    if last is None:
        return {}
    chosen = {"version_id": str(last.version_id), "kind": str(last.kind),
              "scenario": last.scenario, "simulator": last.simulator or ""}
    threat = session.exec(select(Engagement).where(Engagement.trial_id == last.id)
                          .order_by(col(Engagement.id).desc()).limit(1)).first()
    if threat is not None:  # the threat it met last, at the cost the soldier gave it
        known = threat.threat_kind in THREATS
        chosen |= {"threat_kind": threat.threat_kind if known else OTHER,
                   "threat_other": "" if known else threat.threat_kind,
                   "threat_cost_eur": f"{threat.threat_cost_cents / 100:g}"}
    return chosen


def _log_page(request: Request, session: Session, user: User, *, form: dict[str, str],
              errors: dict[str, str], logged: str = "", code: int = 200) -> Response:
    return page(request, "log.html", user, code=code, versions=_versions(session, user),
                form=form, errors=errors, logged=logged, threats=THREATS, other=OTHER,
                threat_cost_eur=threat_cost_eur, names=value_names(gettext_for(request)),
                recent=log_trials.recent_trials(session, user))


@router.get("/log")
def log_form(request: Request, session: SessionDep, user: PageSoldier,
             logged: str = "") -> Response:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    form = {**DEFAULTS, **_last_choice(session, user), "started_at": now}
    return _log_page(request, session, user, form=form, errors={}, logged=logged)


@router.post("/log")
async def log_trial(request: Request, session: SessionDep, user: PageSoldier) -> Response:
    form = {**DEFAULTS, **{k: str(v) for k, v in (await request.form()).items()}}
    check_csrf(request, form.pop("csrf", ""))
    _ = gettext_for(request)
    parsed = parse_log(form, _)
    trial = None
    if not parsed.errors and parsed.trial is not None:
        try:
            trial = service.create_trial(session=session, trial_in=parsed.trial, by=user)
        except DomainError:
            parsed.errors["version_id"] = _("choose the prototype version you tried")
    if trial is None:
        return _log_page(request, session, user, form=form, errors=parsed.errors, code=422)
    service.add_engagements(session=session, trial=trial, engagements_in=parsed.engagements)
    if parsed.report is not None:
        service.add_report(session=session, trial=trial, report_in=parsed.report, by=user)
    notify(request.app.state.feed, session, trial,
           {"event": "engagements", "count": len(parsed.engagements)})
    return see_other(f"/log?logged={trial.id}")
