"""What engineers (and soldiers of other units) may see of the task force's record, and
differentially private aggregates of soldiers' feedback. Pure: no I/O.

Decisions and findings: free text scrubbed, the people who wrote them withheld, times as the
ISO week, a geofence as metres from its own centroid (its shape and size, never its place).
"""

import functools
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from sandbox.models.registry import REPORT_RATINGS
from sandbox.scrub import scrub_text

EARTH_M_PER_DEG = 111_320.0


def week_of(moment: datetime | None) -> str | None:
    """One moment's ISO week, as `iso_week` writes a column of them (naive times are UTC);
    without pandas, which costs milliseconds per call on every engagement's feed notice."""
    if moment is None:
        return None
    year, week, _ = (moment.astimezone(UTC) if moment.tzinfo else moment).isocalendar()
    return f"{year}-W{week:02d}"


def local_polygon(points: Iterable[Iterable[float]]) -> list[tuple[float, float]]:
    """A (lat, lon) polygon as (east_m, north_m) from its centroid, to the metre."""
    pairs = [tuple(p) for p in points]
    lat0 = sum(p[0] for p in pairs) / len(pairs)
    lon0 = sum(p[1] for p in pairs) / len(pairs)
    scale = EARTH_M_PER_DEG * math.cos(math.radians(lat0))
    return [(round((lon - lon0) * scale), round((lat - lat0) * EARTH_M_PER_DEG))
            for lat, lon in pairs]


class DecisionView(BaseModel):
    id: int
    prototype_id: int
    version_id: int | None
    from_status: str
    to_status: str
    rationale: str
    conditions: dict[str, Any]
    expires_at: datetime | None
    priority_licence: bool
    gate_overridden: bool
    decided_by_id: int | None
    decided_at: datetime | str


class FindingView(BaseModel):
    id: int
    prototype_id: int
    version_id: int | None
    severity: str
    title: str
    description: str
    status: str
    resolution: str
    raised_by_id: int | None
    created_at: datetime | str
    closed_at: datetime | str | None


def decision_view(decision: Any, *, roster: list[str], keep: list[str]) -> DecisionView:
    """A decision as the company (or a soldier) sees it: the expiry stays exact, as it is a
    condition the company must keep to; who decided and when, to the week."""
    conditions = dict(decision.conditions or {})
    if conditions.get("geofence"):
        conditions["geofence_local_m"] = local_polygon(conditions.pop("geofence"))
    else:
        conditions.pop("geofence", None)
    conditions["notes"] = scrub_text(str(conditions.get("notes", "")), roster=roster, keep=keep)
    conditions["radio_bands"] = [scrub_text(str(band), roster=roster, keep=keep)
                                 for band in conditions.get("radio_bands", [])]
    return DecisionView.model_validate(decision, from_attributes=True, context=None).model_copy(
        update={"rationale": scrub_text(decision.rationale, roster=roster, keep=keep),
                "conditions": conditions, "decided_by_id": None,
                "decided_at": week_of(decision.decided_at)})


def finding_view(finding: Any, *, roster: list[str], keep: list[str]) -> FindingView:
    """A safety finding as the company sees it: what, never who or exactly when."""
    return FindingView.model_validate(finding, from_attributes=True).model_copy(update={
        "title": scrub_text(finding.title, roster=roster, keep=keep),
        "description": scrub_text(finding.description, roster=roster, keep=keep),
        "resolution": scrub_text(finding.resolution, roster=roster, keep=keep),
        "raised_by_id": None, "created_at": week_of(finding.created_at),
        "closed_at": week_of(finding.closed_at)})


# --- differentially private aggregates -----------------------------------------------------
#
# The unit of privacy is a person (a soldier), not a row: each person's contribution to one
# answer is bounded (their first MAX_* rows), so adding or removing a soldier changes the
# engagement vector by at most MAX_ENGAGEMENTS_PER_PERSON in L1, the report vector by
# MAX_REPORTS_PER_PERSON * (1 + len(RATINGS) * (1 + 5)): a report adds 1 to the count and,
# per rating it gives (each is optional), 1 to that rating's count and up to 5 to its sum.
# OpenDP's discrete Laplace mechanism, on integers (no floating-point side channel), spends
# half the epsilon on each vector.

MAX_ENGAGEMENTS_PER_PERSON = 50
MAX_REPORTS_PER_PERSON = 5
RATINGS = REPORT_RATINGS
RATING_MAX = 5
FAILURES = ("miss", "abort", "fratricide")


@functools.cache
def _opendp() -> Any:
    import opendp.prelude as dp
    dp.enable_features("contrib")  # the discrete Laplace measurement is contributed code
    return dp


def noisy_counts(counts: list[int], *, sensitivity: int, epsilon: float) -> list[int]:
    """`counts` with discrete Laplace noise scaled to an L1 `sensitivity` at `epsilon`."""
    if not counts:
        return []
    dp = _opendp()
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = dp.m.make_laplace(*space, scale=sensitivity / epsilon)
    assert measurement.map(sensitivity) <= epsilon * (1 + 1e-9)  # OpenDP's own accounting
    return [int(v) for v in measurement([int(c) for c in counts])]


def bounded(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Each person's first `limit` rows, in the frame's (arrival) order; `rows` counts the
    rows a line stands for."""
    before = frame.groupby("person")["rows"].cumsum() - frame["rows"]
    kept = frame.assign(rows=(limit - before).clip(lower=0).clip(upper=frame["rows"]))
    return kept[kept["rows"] > 0]


def _cells(frame: pd.DataFrame, cells: pd.MultiIndex,
           columns: tuple[str, ...] = ("rows",)) -> list[int]:
    """Each column's sums over the cells, column after column (one grouping for all)."""
    table = frame.groupby(["version", "period"])[list(columns)].sum()
    return [int(v) for v in table.reindex(cells, fill_value=0).to_numpy().T.ravel()]


def private_aggregates(engagements: pd.DataFrame, reports: pd.DataFrame, *,
                       versions: list[str], periods: list[str],
                       epsilon: float) -> list[dict[str, Any]]:
    """Pk, failures and ratings per version and period, epsilon-differentially private for
    each soldier. engagements: person, version, period, outcome, rows (how many); reports:
    person, version, period and the ratings (None when not given). Every cell is answered,
    empty or not."""
    cells = pd.MultiIndex.from_product([versions, periods], names=["version", "period"])
    kept = bounded(engagements, MAX_ENGAGEMENTS_PER_PERSON)
    outcomes = _cells(kept[kept["outcome"] == "intercept"], cells) + _cells(
        kept[kept["outcome"].isin(FAILURES)], cells)
    noisy_outcomes = noisy_counts(outcomes, sensitivity=MAX_ENGAGEMENTS_PER_PERSON,
                                  epsilon=epsilon / 2)
    rated = bounded(_rating_columns(reports).assign(rows=1), MAX_REPORTS_PER_PERSON)
    sums = _cells(rated, cells, ("rows", *(c for r in RATINGS for c in (r, f"{r}_given"))))
    noisy_sums = noisy_counts(
        sums, sensitivity=MAX_REPORTS_PER_PERSON * (1 + len(RATINGS) * (1 + RATING_MAX)),
        epsilon=epsilon / 2)
    n = len(cells)
    return [_cell(version, period, noisy_outcomes[i], noisy_outcomes[n + i],
                  [noisy_sums[n * j + i] for j in range(1 + 2 * len(RATINGS))])
            for i, (version, period) in enumerate(cells)]


def _rating_columns(reports: pd.DataFrame) -> pd.DataFrame:
    """Each rating as an integer sum (0 when not given) and a 0/1 count of it being given."""
    given = {f"{r}_given": reports[r].notna().astype(int) for r in RATINGS}
    values = {r: pd.to_numeric(reports[r]).fillna(0).astype(int) for r in RATINGS}
    return reports.assign(**values, **given)


def _cell(version: str, period: str, intercepts: int, failures: int,
          sums: list[int]) -> dict[str, Any]:
    """Post-processing (free of privacy cost): clamp to what is possible, then divide; a
    rating's mean is over the reports that gave it."""
    intercepts, failures, count = max(intercepts, 0), max(failures, 0), max(sums[0], 0)
    engagements = intercepts + failures
    pairs = zip(sums[1::2], sums[2::2], strict=True)
    ratings = {name: (min(max(total / given, 1.0), RATING_MAX) if given > 0 else None)
               for name, (total, given) in zip(RATINGS, pairs, strict=True)}
    return {"version": version, "period": period, "engagements": engagements,
            "intercepts": intercepts, "failures": failures,
            "pk": intercepts / engagements if engagements else None, "reports": count,
            **ratings}
