"""What engineers (and soldiers of other units) may see of the task force's record, and
differentially private aggregates of soldiers' feedback. Pure: no I/O.

Decisions and findings: free text scrubbed, the people who wrote them withheld, times as the
ISO week, a geofence as metres from its own centroid (its shape and size, never its place).
"""

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from sandbox.anonymise import iso_week
from sandbox.scrub import scrub_text

EARTH_M_PER_DEG = 111_320.0


def week_of(moment: datetime | None) -> str | None:
    return None if moment is None else str(iso_week(pd.Series([moment])).iloc[0])


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
