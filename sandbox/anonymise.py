"""Anonymised feedback for engineers: pure functions over DataFrames. No I/O.

What leaves: pseudonyms (keyed per company, so two companies' exports cannot be joined), free
text with names, contacts and positions removed, positions only as metres from a secret
per-trial origin, times as seconds from trial start and the ISO week; quasi-identifiers
generalised or suppressed until every combination is shared by k rows with l outcomes.
"""

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from sandbox.scrub import scrub_text


class AnonymisationError(Exception):
    """The export would not be anonymous; it is refused, never sent."""


def company_key(master_secret: bytes, company_id: int) -> bytes:
    return hmac.new(master_secret, f"company-pseudonym-key:{company_id}".encode(),
                    hashlib.sha256).digest()


def pseudonym(value: str, *, key: bytes, kind: str) -> str:
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}-{digest[:12]}"


# --- places and times ----------------------------------------------------------------------

def trial_origin(secret: bytes, trial_id: int, lat: float, lon: float) -> tuple[float, float]:
    """A secret origin 5–15 km from the real site, fixed per trial."""
    digest = hmac.new(secret, f"trial-origin:{trial_id}".encode(), hashlib.sha256).digest()
    bearing = int.from_bytes(digest[:4], "big") / 2**32 * 2 * math.pi
    distance_m = 5_000 + int.from_bytes(digest[4:8], "big") / 2**32 * 10_000
    north, east = distance_m * math.cos(bearing), distance_m * math.sin(bearing)
    return (lat + north / 111_320.0,
            lon + east / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6)))


def iso_week(moments: pd.Series) -> pd.Series:
    calendar = pd.to_datetime(moments, utc=True).dt.isocalendar()
    return calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)



# --- k-anonymity and l-diversity -----------------------------------------------------------

@dataclass(frozen=True)
class Suppression:
    k: int
    l: int  # noqa: E741  (the name of the property)
    generalised: dict[str, str] = field(default_factory=dict)  # column -> level used
    suppressed_rows: int = 0
    rows: int = 0


def _month(week: str) -> str:
    if week == "*":
        return "*"
    year, number = week.split("-W")
    return pd.Timestamp.fromisocalendar(int(year), int(number), 1).strftime("%Y-%m")


# Each quasi-identifier coarsens step by step; the last step hides it.
HIERARCHIES = {"week": [lambda v: v, _month, lambda v: "*"],
               "region": [lambda v: v, lambda v: "*"],
               "unit": [lambda v: v, lambda v: "*"],
               "unit_kind": [lambda v: v, lambda v: "*"]}
LEVEL_NAMES = {"week": ["week", "month", "hidden"]}


def failing_classes(frame: pd.DataFrame, quasi_identifiers: list[str], *, k: int, l: int,  # noqa: E741
                    sensitive: str | None) -> pd.Series:
    """Mask of rows whose equivalence class is smaller than k or has fewer than l outcomes."""
    if frame.empty:
        return pd.Series(dtype=bool)
    groups = frame.groupby(quasi_identifiers, dropna=False, sort=False)
    small = groups[quasi_identifiers[0]].transform("size") < k
    if sensitive is None or l <= 1:
        return small
    return small | (groups[sensitive].transform("nunique") < l)


def enforce_k_anonymity(frame: pd.DataFrame, *, quasi_identifiers: list[str],
                        sensitive: str | None, k: int = 5, l: int = 2,  # noqa: E741
                        max_suppressed: float = 0.1) -> tuple[pd.DataFrame, Suppression]:
    """Generalise all quasi-identifiers a level at a time until at most `max_suppressed` of
    the rows fail, then drop those rows."""
    depth = max(len(HIERARCHIES[q]) for q in quasi_identifiers)
    for level in range(depth):
        steps = {q: min(level, len(HIERARCHIES[q]) - 1) for q in quasi_identifiers}
        candidate = frame.copy()
        for q, step in steps.items():
            candidate[q] = candidate[q].astype(str).map(HIERARCHIES[q][step])
        failing = failing_classes(candidate, quasi_identifiers, k=k, l=l, sensitive=sensitive)
        if failing.sum() <= max_suppressed * len(candidate) or level == depth - 1:
            kept = candidate[~failing].reset_index(drop=True) if len(candidate) else candidate
            names = {q: LEVEL_NAMES.get(q, ["exact", "hidden"])[min(s, 2)]
                     for q, s in steps.items()}
            return kept, Suppression(k=k, l=l, generalised=names,
                                     suppressed_rows=int(failing.sum()), rows=len(frame))
    raise AssertionError("unreachable: the last level always returns")


def check_anonymous(frame: pd.DataFrame, *, quasi_identifiers: list[str], k: int, l: int,  # noqa: E741
                    sensitive: str | None) -> None:
    """The final gate before anything leaves: refuse rather than send."""
    if frame.empty:
        return
    if failing_classes(frame, quasi_identifiers, k=k, l=l, sensitive=sensitive).any():
        raise AnonymisationError(f"export refused: a combination of {quasi_identifiers} is "
                                 f"shared by fewer than {k} rows or {l} outcomes")


# --- the feedback export -------------------------------------------------------------------

ENGAGEMENT_QIS = ["unit", "unit_kind", "region", "week"]
REPORT_QIS = ["unit", "region", "week"]


@dataclass(frozen=True)
class FeedbackExport:
    engagements: pd.DataFrame
    reports: pd.DataFrame
    engagement_suppression: Suppression
    report_suppression: Suppression


def anonymise_feedback(engagements: pd.DataFrame, reports: pd.DataFrame, *, key: bytes,
                       roster: Iterable[str], k: int = 5, l: int = 2) -> FeedbackExport:  # noqa: E741
    """Engagements and reports of one company's prototypes, fit to leave the hub.

    engagements: trial_id, trial_kind, version, unit_name, unit_kind, region, started_at,
    threat_kind, outcome, interceptors_used, time_to_intercept_s.
    reports: trial_id, version, author_name, unit_name, region, created_at, effectiveness,
    ease_of_use, reliability, text.
    """
    names = list(roster)
    out_engagements = pd.DataFrame({
        "trial": [pseudonym(str(t), key=key, kind="trial") for t in engagements["trial_id"]],
        "trial_kind": engagements["trial_kind"].astype(str),
        "version": engagements["version"].astype(str),
        "unit": _pseudonyms(engagements["unit_name"], key, "unit"),
        "unit_kind": engagements["unit_kind"].fillna("none").astype(str),
        "region": engagements["region"].fillna("unknown").astype(str),
        "week": iso_week(engagements["started_at"]) if len(engagements) else pd.Series(
            dtype=str),
        "threat_kind": engagements["threat_kind"].astype(str),
        "outcome": engagements["outcome"].astype(str),
        "interceptors_used": engagements["interceptors_used"].astype("int64"),
        "time_to_intercept_s": engagements["time_to_intercept_s"].astype(float),
    })
    out_reports = pd.DataFrame({
        "trial": [pseudonym(str(t), key=key, kind="trial") for t in reports["trial_id"]],
        "version": reports["version"].astype(str),
        "soldier": _pseudonyms(reports["author_name"], key, "soldier"),
        "unit": _pseudonyms(reports["unit_name"], key, "unit"),
        "region": reports["region"].fillna("unknown").astype(str),
        "week": iso_week(reports["created_at"]) if len(reports) else pd.Series(dtype=str),
        "effectiveness": reports["effectiveness"].astype("int64"),
        "ease_of_use": reports["ease_of_use"].astype("int64"),
        "reliability": reports["reliability"].astype("int64"),
        "text": [scrub_text(str(t), roster=names) for t in reports["text"]],
    })
    engagements_out, engagement_note = enforce_k_anonymity(
        out_engagements, quasi_identifiers=ENGAGEMENT_QIS, sensitive="outcome", k=k, l=l)
    reports_out, report_note = enforce_k_anonymity(
        out_reports, quasi_identifiers=REPORT_QIS, sensitive=None, k=k, l=1)
    check_anonymous(engagements_out, quasi_identifiers=ENGAGEMENT_QIS, k=k, l=l,
                    sensitive="outcome")
    check_anonymous(reports_out, quasi_identifiers=REPORT_QIS, k=k, l=1, sensitive=None)
    return FeedbackExport(engagements_out, reports_out, engagement_note, report_note)


def _pseudonyms(values: pd.Series, key: bytes, kind: str) -> list[str]:
    return [pseudonym(str(v), key=key, kind=kind) if isinstance(v, str) and v else "none"
            for v in values]
