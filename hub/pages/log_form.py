"""The soldier's trial form read into the API's inputs: every field's error at once, each in
plain words (never a validation library's text), translated by the `_` it is given."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from hub.pages.common import field_errors
from sandbox.models import (
    EngagementCreate,
    ReportCreate,
    TrialCreate,
)
from sandbox.models.registry import CLOCK_SKEW, REPORT_RATINGS
from sandbox.timeutil import as_utc, utcnow
from simulators.threats import THREATS

Translate = Callable[[str], str]
OTHER = "other"  # a threat outside the library, named by the soldier
MAX_COUNT = 1000  # engagements of one outcome in one form; bulk goes through the API
OUTCOMES = ("intercept", "miss", "abort")
DEFAULTS = {"kind": "field", "scenario": "", "simulator": "", "threat_kind": "shahed_136",
            "threat_other": "", "threat_cost_eur": "35000", "interceptors_used": "1",
            "intercept": "0", "miss": "0", "abort": "0", "text": "", "version_id": "",
            "started_at": "", **dict.fromkeys(REPORT_RATINGS, "")}


def _identity(text: str) -> str:
    return text


def threat_cost_eur(kind: str) -> str:
    """The library's cost of a threat, as the cost field shows it."""
    return f"{THREATS[kind].cost_cents // 100}" if kind in THREATS else ""


def threat_names(_: Translate = _identity) -> dict[str, str]:
    """What soldiers call the library's threats; a kind not named here shows as its slug."""
    return {"shahed_136": _("Shahed-136 / Geran-2 attack drone"),
            "fpv_strike": _("FPV strike drone"), "recon_quad": _("Reconnaissance quadcopter"),
            "cruise_missile": _("Cruise missile")}


def value_names(_: Translate = _identity) -> dict[str, dict[str, str]]:
    """Words for the registry's values on the soldier's pages, in the page's language."""
    return {
        "ratings": {"effectiveness": _("Effectiveness"), "ease_of_use": _("Ease of use"),
                    "reliability": _("Reliability"),
                    "ew_resistance": _("Resistance to electronic warfare"),
                    "build_quality": _("Build quality"), "wind_behaviour": _("Behaviour in wind"),
                    "ease_of_maintenance": _("Ease of maintenance")},
        "outcomes": {"intercept": _("intercept"), "miss": _("miss"), "abort": _("abort")},
        "kinds": {"field": _("Field"), "simulator": _("Simulator"),
                  "simulation": _("Simulation")},
        "threats": threat_names(_)}


@dataclass
class ParsedLog:
    trial: TrialCreate | None = None
    engagements: list[EngagementCreate] = field(default_factory=list)
    report: ReportCreate | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_log(form: dict[str, str], _: Translate = _identity) -> ParsedLog:
    """Validate every part before anything is written; errors by form field."""
    parsed = ParsedLog()
    parsed.trial = _trial(form, parsed.errors, _)
    parsed.engagements = parse_engagements(form, parsed.errors, _)
    parsed.report = parse_report(form, parsed.errors, _)
    return parsed


def parse_engagements(form: dict[str, str], errors: dict[str, str],
                      _: Translate = _identity) -> list[EngagementCreate]:
    """One engagement per counted outcome, all alike but for the outcome."""
    engagement = _engagement(form, errors, _)
    counts = _counts(form, errors, _)
    if engagement is None or errors:
        return []
    return [engagement.model_copy(update={"outcome": outcome})
            for outcome, n in counts.items() for _n in range(n)]


def _friendly(error: ValidationError, messages: dict[str, str], errors: dict[str, str]) -> None:
    for name, message in field_errors(error).items():
        errors.setdefault(name, messages.get(name, message))


def _started_at(value: str, errors: dict[str, str], _: Translate) -> datetime | None:
    try:
        started = as_utc(datetime.fromisoformat(value))
    except ValueError:
        errors["started_at"] = _("give the date and time the trial began (UTC)")
        return None
    if started > utcnow() + CLOCK_SKEW:
        errors["started_at"] = _("{when} UTC is in the future (now {now} UTC): give the time "
                                 "the trial began").format(when=f"{started:%Y-%m-%d %H:%M}",
                                                           now=f"{utcnow():%Y-%m-%d %H:%M}")
        return None
    return started


def _trial(form: dict[str, str], errors: dict[str, str], _: Translate) -> TrialCreate | None:
    started = _started_at(form["started_at"], errors, _)
    version = form["version_id"]
    if not (version.isascii() and version.isdigit() and 0 < int(version) < 2**31):
        errors["version_id"] = _("choose the prototype version you tried")
    if started is None or "version_id" in errors:
        return None
    try:
        return TrialCreate(version_id=int(version), kind=form["kind"],
                           scenario=form["scenario"].strip(),
                           simulator=form["simulator"].strip() or None, started_at=started)
    except ValidationError as error:
        _friendly(error, {
            "kind": _("field or simulator"),
            "scenario": _("name the scenario (up to 120 characters), e.g. night raid"),
            "simulator": _("name the external simulator (up to 120 characters) for a trial "
                           "in a simulator")}, errors)
    return None


def threat_kind(form: dict[str, str]) -> str:
    """The library's kind, or the soldier's name for another threat as a lower-case slug."""
    if form["threat_kind"] != OTHER:
        return form["threat_kind"]
    return re.sub(r"[^a-z0-9]+", "_", form["threat_other"].strip().lower()).strip("_")


def _engagement(form: dict[str, str], errors: dict[str, str],
                _: Translate) -> EngagementCreate | None:
    try:
        cost = Decimal(form["threat_cost_eur"].strip().replace(" ", "").replace(",", ""))
    except InvalidOperation:
        cost = Decimal(-1)
    kind = threat_kind(form)
    if form["threat_kind"] != OTHER and kind not in THREATS:
        kind = ""
    messages = {
        "threat_kind": _("choose a threat, or other and its name (letters and digits)"),
        "threat_cost_eur": _("a number of euros, e.g. 35000"),
        "interceptors_used": _("a whole number from 0 to 10000")}
    try:
        return EngagementCreate(threat_kind=kind, outcome="intercept", threat_cost_eur=cost,
                                interceptors_used=form["interceptors_used"].strip())
    except ValidationError as error:
        _friendly(error, messages, errors)
    if "threat_kind" in errors and form["threat_kind"] == OTHER:
        errors["threat_other"] = errors.pop("threat_kind")
    return None


def _counts(form: dict[str, str], errors: dict[str, str], _: Translate) -> dict[str, int]:
    counts = {}
    for outcome in OUTCOMES:
        value = form[outcome].strip() or "0"
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_COUNT:  # not "²"
            errors[outcome] = _("a whole number from 0 to {most}").format(most=MAX_COUNT)
        else:
            counts[outcome] = int(value)
    if len(counts) == len(OUTCOMES) and sum(counts.values()) == 0:
        errors["engagements"] = _("record at least one engagement (intercepts, misses or "
                                  "aborts)")
    return counts


def parse_report(form: dict[str, str], errors: dict[str, str],
                 _: Translate = _identity) -> ReportCreate | None:
    """A report when the soldier wrote or rated anything; a blank rating is no rating."""
    ratings: dict[str, int] = {}
    for name in REPORT_RATINGS:
        value = form.get(name, "").strip()
        if value in {"1", "2", "3", "4", "5"}:
            ratings[name] = int(value)
        elif value:
            errors[name] = _("from 1 (poor) to 5 (very good), or leave it blank")
    text = form.get("text", "")
    if len(text) > 10_000:
        errors["text"] = _("at most 10,000 characters (this one has {count:,})").format(
            count=len(text))
        return None
    if not text.strip() and not ratings:
        return None
    return ReportCreate(text=text, **ratings)
