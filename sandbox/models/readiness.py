"""Readiness: sandbox decisions with their conditions, and safety findings."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlmodel import JSON, Column, Field, SQLModel

from sandbox.models.common import Id, Input, enum_column, utc_column
from sandbox.models.registry import SandboxStatus
from sandbox.timeutil import as_utc, utcnow

# --- sandbox decisions and safety findings -------------------------------------------------

class Conditions(SQLModel):
    altitude_ceiling_m: float | None = Field(default=None, gt=0, le=20_000)
    geofence: list[tuple[float, float]] | None = Field(
        default=None, min_length=3, max_length=200,
        description="polygon of (lat, lon) points the trials must stay inside")
    radio_bands: list[str] = Field(default_factory=list, max_length=20)
    notes: str = Field(default="", max_length=2000)

    @field_validator("geofence")
    @classmethod
    def _on_earth(cls, points: list[tuple[float, float]] | None) -> Any:
        if points and not all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in points):
            raise ValueError("every point must be a (lat, lon) on Earth")
        return points


class Decision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    prototype_id: int = Field(foreign_key="prototype.id", index=True)
    version_id: int | None = Field(default=None, foreign_key="version.id")
    from_status: SandboxStatus = Field(sa_type=enum_column(SandboxStatus))
    to_status: SandboxStatus = Field(sa_type=enum_column(SandboxStatus))
    rationale: str = Field(max_length=5000)
    conditions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    expires_at: datetime | None = utc_column(nullable=True)
    priority_licence: bool = False
    gate_overridden: bool = False
    decided_by_id: int = Field(foreign_key="user.id")
    decided_at: datetime = utc_column()


class DecisionCreate(Input):
    to_status: SandboxStatus
    rationale: str = Field(min_length=10, max_length=5000)
    conditions: Conditions = Field(default_factory=Conditions)
    expires_at: datetime | None = None
    priority_licence: bool = Field(default=False, description="licence to test abroad")
    override_gate: bool = Field(default=False, description="decide although the gate fails; "
                                                           "the rationale must say why")

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is not None and as_utc(value) <= utcnow():
            raise ValueError("must be in the future")
        return None if value is None else as_utc(value)


class DecisionPublic(SQLModel):
    id: int
    prototype_id: int
    version_id: int | None
    from_status: SandboxStatus
    to_status: SandboxStatus
    rationale: str
    conditions: dict[str, Any]
    expires_at: datetime | None
    priority_licence: bool
    gate_overridden: bool
    decided_by_id: int
    decided_at: datetime


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class FindingStatus(StrEnum):
    open = "open"
    closed = "closed"


class FindingBase(SQLModel):
    prototype_id: int = Field(foreign_key="prototype.id", index=True)
    version_id: int | None = Field(default=None, foreign_key="version.id")
    severity: Severity = Field(sa_type=enum_column(Severity))
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=5000)


class Finding(FindingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: FindingStatus = Field(default=FindingStatus.open, sa_type=enum_column(FindingStatus))
    resolution: str = Field(default="", max_length=5000)
    raised_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_column()
    closed_at: datetime | None = utc_column(nullable=True)


class FindingCreate(FindingBase, Input):
    prototype_id: Id
    version_id: Id | None = None


class FindingUpdate(Input):
    status: FindingStatus
    resolution: str = Field(min_length=3, max_length=5000)


class FindingPublic(FindingBase):
    id: int
    status: FindingStatus
    resolution: str
    raised_by_id: int
    created_at: datetime
    closed_at: datetime | None
