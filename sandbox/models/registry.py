"""The registry: organisations, users, prototypes, immutable versions, trials, engagements,
reports (one schema family per entity).

Server-owned fields (owner, status, author, timestamps) exist only on the table models, and every
input schema forbids unknown fields, so a client can never set them.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import JSON, Column, Field, SQLModel

from sandbox.models.common import (
    MAX_EUR,
    Id,
    Input,
    JsonDocument,
    LoginName,
    Slug,
    enum_column,
    utc_column,
)
from sandbox.money import EurOut, to_eur
from sandbox.timeutil import UTCDateTime, as_utc, utcnow


class OrgKind(StrEnum):
    company = "company"
    unit = "unit"
    task_force = "task_force"


class Role(StrEnum):
    soldier = "soldier"
    engineer = "engineer"
    reviewer = "reviewer"
    admin = "admin"


class PrototypeKind(StrEnum):
    interceptor_drone = "interceptor_drone"
    strike_drone = "strike_drone"
    recon_drone = "recon_drone"
    cuas_sensor = "cuas_sensor"
    ew_system = "ew_system"
    c2_software = "c2_software"
    baseline = "baseline"  # a fielded reference system (Patriot-class, gun) scored for comparison


class SandboxStatus(StrEnum):
    submitted = "submitted"
    admitted = "admitted"
    sim_trialled = "sim_trialled"
    field_trial_authorised = "field_trial_authorised"
    ready = "ready"
    suspended = "suspended"
    rejected = "rejected"


class TrialKind(StrEnum):
    simulation = "simulation"
    simulator = "simulator"
    field = "field"


class Outcome(StrEnum):
    intercept = "intercept"
    miss = "miss"
    abort = "abort"
    fratricide = "fratricide"


# --- organisations -------------------------------------------------------------------------

class OrganisationBase(SQLModel):
    name: str = Field(min_length=2, max_length=120)
    kind: OrgKind = Field(sa_type=enum_column(OrgKind))
    region: str | None = Field(default=None, max_length=120)


class Organisation(OrganisationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    created_at: datetime = utc_column()


class OrganisationCreate(OrganisationBase, Input):
    pass


class OrganisationPublic(OrganisationBase):
    id: int
    created_at: datetime


# --- users ---------------------------------------------------------------------------------

class UserBase(SQLModel):
    name: LoginName = Field(min_length=3, max_length=64)
    role: Role = Field(sa_type=enum_column(Role))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=256)
    is_active: bool = True
    created_at: datetime = utc_column()


class UserCreate(UserBase, Input):
    organisation_id: Id | None = None
    password: str = Field(min_length=10, max_length=256)


class UserUpdate(Input):
    is_active: bool = Field(description="false disables the account: its tokens stop working "
                                        "and its websockets close")


class UserPublic(UserBase):
    id: int
    is_active: bool
    created_at: datetime


# --- prototypes ----------------------------------------------------------------------------

class PrototypeBase(SQLModel):
    name: str = Field(min_length=2, max_length=120)
    kind: PrototypeKind = Field(sa_type=enum_column(PrototypeKind))
    description: str = Field(default="", max_length=5000)
    export_control: str = Field(default="", max_length=200)


class Prototype(PrototypeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    sandbox_status: SandboxStatus = Field(default=SandboxStatus.submitted,
                                          sa_type=enum_column(SandboxStatus))
    created_at: datetime = utc_column()


class PrototypeCreate(PrototypeBase, Input):
    pass


class PrototypeUpdate(Input):
    name: str | None = Field(default=None, min_length=2, max_length=120)
    kind: PrototypeKind | None = None
    description: str | None = Field(default=None, max_length=5000)
    export_control: str | None = Field(default=None, max_length=200)


class PrototypePublic(PrototypeBase):
    id: int
    organisation_id: int
    sandbox_status: SandboxStatus
    created_at: datetime


# --- versions ------------------------------------------------------------------------------

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


class VersionFields(SQLModel):
    reusable: bool = False
    software_hash: str = Field(default="", max_length=128)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    changelog: str = Field(default="", max_length=5000)


class Version(VersionFields, table=True):
    __table_args__ = (sa.UniqueConstraint("prototype_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    prototype_id: int = Field(foreign_key="prototype.id", index=True)
    version: str = Field(max_length=64)
    unit_cost_cents: int = Field(sa_type=sa.BigInteger)
    created_at: datetime = utc_column()


def _check_semver(value: str | None) -> str | None:
    if value is not None and not SEMVER.match(value):
        raise ValueError("must be a semantic version such as 1.4.0")
    return value


class VersionCreate(VersionFields, Input):
    version: str = Field(max_length=64)
    parameters: JsonDocument = Field(default_factory=dict)
    unit_cost_eur: Decimal = Field(ge=0, le=MAX_EUR, decimal_places=2)

    _semver = field_validator("version")(_check_semver)


class VersionUpdate(Input):
    version: str | None = Field(default=None, max_length=64)
    unit_cost_eur: Decimal | None = Field(default=None, ge=0, le=MAX_EUR, decimal_places=2)
    reusable: bool | None = None
    software_hash: str | None = Field(default=None, max_length=128)
    parameters: JsonDocument | None = None
    changelog: str | None = Field(default=None, max_length=5000)

    _semver = field_validator("version")(_check_semver)


class VersionPublic(VersionFields):
    id: int
    prototype_id: int
    version: str
    unit_cost_eur: EurOut
    locked: bool = Field(description="true once the version has trial data: edits are refused")
    created_at: datetime

    @classmethod
    def of(cls, version: Version, *, locked: bool) -> Self:
        return cls.model_validate(version, update={
            "unit_cost_eur": to_eur(version.unit_cost_cents), "locked": locked})


# --- trials --------------------------------------------------------------------------------

class TrialBase(SQLModel):
    version_id: int = Field(foreign_key="version.id", index=True)
    kind: TrialKind = Field(sa_type=enum_column(TrialKind))
    scenario: str = Field(min_length=1, max_length=120)
    simulator: str | None = Field(default=None, max_length=120)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notes: str = Field(default="", max_length=10000)


class Trial(TrialBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    lat: float | None = None
    lon: float | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc_column()


CLOCK_SKEW = timedelta(minutes=15)  # a phone's clock ahead of the hub's is no future trial


class TrialCreate(TrialBase, Input):
    version_id: Id
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("started_at", "ended_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        latest = utcnow() + CLOCK_SKEW
        if self.started_at > latest:
            raise ValueError(f"started_at: {self.started_at:%Y-%m-%d %H:%M} UTC is in the "
                             f"future (now {utcnow():%Y-%m-%d %H:%M} UTC): give the time the "
                             "trial began")
        if self.kind == TrialKind.simulator and not self.simulator:
            raise ValueError("simulator: name the external simulator for a trial of kind simulator")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at: must not be before started_at")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat/lon: give both or neither")
        return self


class TrialPublic(TrialBase):
    id: int
    unit_id: int | None
    lat: float | None = Field(default=None, description="reviewers only; null for everyone else")
    lon: float | None = Field(default=None, description="reviewers only; null for everyone else")
    created_at: datetime


# --- engagements ---------------------------------------------------------------------------

class EngagementBase(SQLModel):
    threat_kind: Slug = Field(min_length=1, max_length=40)
    interceptors_used: int = Field(ge=0, le=10000)
    outcome: Outcome = Field(sa_type=enum_column(Outcome))
    time_to_intercept_s: float | None = Field(default=None, ge=0, le=86400)


class Engagement(EngagementBase, table=True):
    # (trial, id) rather than trial alone: a trial's first engagement is one index probe
    __table_args__ = (sa.Index("ix_engagement_trial_id_id", "trial_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id")
    threat_cost_cents: int = Field(sa_type=sa.BigInteger)
    operating_cost_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = utc_column()


class EngagementCreate(EngagementBase, Input):
    threat_cost_eur: Decimal = Field(ge=0, le=MAX_EUR, decimal_places=2)
    operating_cost_eur: Decimal | None = Field(default=None, ge=0, le=MAX_EUR, decimal_places=2)


class EngagementPublic(EngagementBase):
    id: int
    trial_id: int
    threat_cost_eur: EurOut
    operating_cost_eur: EurOut | None
    created_at: datetime

    @classmethod
    def of(cls, row: Engagement) -> Self:
        operating = None if row.operating_cost_cents is None else to_eur(row.operating_cost_cents)
        return cls.model_validate(row, update={
            "threat_cost_eur": to_eur(row.threat_cost_cents), "operating_cost_eur": operating})


# --- reports -------------------------------------------------------------------------------

# Each rating 1-5 and optional: a soldier rates what they saw. The last four are what
# Ukraine's drone marketplace asks soldiers to rate.
REPORT_RATINGS = ("effectiveness", "ease_of_use", "reliability", "ew_resistance",
                  "build_quality", "wind_behaviour", "ease_of_maintenance")


class ReportBase(SQLModel):
    effectiveness: int | None = Field(default=None, ge=1, le=5)
    ease_of_use: int | None = Field(default=None, ge=1, le=5)
    reliability: int | None = Field(default=None, ge=1, le=5)
    ew_resistance: int | None = Field(default=None, ge=1, le=5,
                                      description="resistance to electronic warfare")
    build_quality: int | None = Field(default=None, ge=1, le=5)
    wind_behaviour: int | None = Field(default=None, ge=1, le=5, description="behaviour in wind")
    ease_of_maintenance: int | None = Field(default=None, ge=1, le=5)
    text: str = Field(default="", max_length=10000)


class Report(ReportBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_column()


class ReportCreate(ReportBase, Input):
    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not self.text.strip() and all(getattr(self, r) is None for r in REPORT_RATINGS):
            raise ValueError("text: write what happened, or give at least one rating")
        return self


class ReportPublic(ReportBase):
    id: int
    trial_id: int
    author_id: int
    created_at: datetime


