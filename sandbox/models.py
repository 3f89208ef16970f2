"""Registry tables and their Create / Update / Public schemas (one family per entity).

Server-owned fields (owner, status, author, timestamps) exist only on the table models, and every
input schema forbids unknown fields, so a client can never set them.
"""

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import ConfigDict, StringConstraints, field_validator, model_validator
from sqlmodel import JSON, Column, Field, SQLModel

from sandbox.money import EurOut, to_eur
from sandbox.timeutil import UTCDateTime, as_utc, utcnow

MAX_EUR = Decimal("10000000000")  # 10 bn EUR: above any real system, below integer-cents overflow

MAX_ID = 2_147_483_647  # SQL INTEGER: a larger id cannot exist, so it is refused up front
Id = Annotated[int, Ge(1), Le(MAX_ID)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
LoginName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]+$")]


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


def _enum(cls: type[StrEnum]) -> Any:
    # Plain strings in SQL: adding a kind later needs no ALTER TYPE on PostgreSQL.
    return sa.String(32)


def _utc_column(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Input(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here with a message, on every database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


# --- organisations -------------------------------------------------------------------------

class OrganisationBase(SQLModel):
    name: str = Field(min_length=2, max_length=120)
    kind: OrgKind = Field(sa_type=_enum(OrgKind))
    region: str | None = Field(default=None, max_length=120)


class Organisation(OrganisationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    created_at: datetime = _utc_column()


class OrganisationCreate(OrganisationBase, Input):
    pass


class OrganisationPublic(OrganisationBase):
    id: int
    created_at: datetime


# --- users ---------------------------------------------------------------------------------

class UserBase(SQLModel):
    name: LoginName = Field(min_length=3, max_length=64)
    role: Role = Field(sa_type=_enum(Role))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=256)
    is_active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _utc_column(nullable=True)
    created_at: datetime = _utc_column()


class UserCreate(UserBase, Input):
    organisation_id: Id | None = None
    password: str = Field(min_length=10, max_length=256)


class UserPublic(UserBase):
    id: int
    created_at: datetime


# --- prototypes ----------------------------------------------------------------------------

class PrototypeBase(SQLModel):
    name: str = Field(min_length=2, max_length=120)
    kind: PrototypeKind = Field(sa_type=_enum(PrototypeKind))
    description: str = Field(default="", max_length=5000)
    export_control: str = Field(default="", max_length=200)


class Prototype(PrototypeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    sandbox_status: SandboxStatus = Field(default=SandboxStatus.submitted,
                                          sa_type=_enum(SandboxStatus))
    created_at: datetime = _utc_column()


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
    created_at: datetime = _utc_column()


def _check_semver(value: str | None) -> str | None:
    if value is not None and not SEMVER.match(value):
        raise ValueError("must be a semantic version such as 1.4.0")
    return value


class VersionCreate(VersionFields, Input):
    version: str = Field(max_length=64)
    unit_cost_eur: Decimal = Field(ge=0, le=MAX_EUR, decimal_places=2)

    _semver = field_validator("version")(_check_semver)


class VersionUpdate(Input):
    version: str | None = Field(default=None, max_length=64)
    unit_cost_eur: Decimal | None = Field(default=None, ge=0, le=MAX_EUR, decimal_places=2)
    reusable: bool | None = None
    software_hash: str | None = Field(default=None, max_length=128)
    parameters: dict[str, Any] | None = None
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
    kind: TrialKind = Field(sa_type=_enum(TrialKind))
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
    created_at: datetime = _utc_column()


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
    outcome: Outcome = Field(sa_type=_enum(Outcome))
    time_to_intercept_s: float | None = Field(default=None, ge=0, le=86400)


class Engagement(EngagementBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    threat_cost_cents: int = Field(sa_type=sa.BigInteger)
    operating_cost_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = _utc_column()


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

class ReportBase(SQLModel):
    effectiveness: int = Field(ge=1, le=5)
    ease_of_use: int = Field(ge=1, le=5)
    reliability: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=10000)


class Report(ReportBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    created_at: datetime = _utc_column()


class ReportCreate(ReportBase, Input):
    pass


class ReportPublic(ReportBase):
    id: int
    trial_id: int
    author_id: int
    created_at: datetime


# --- audit ---------------------------------------------------------------------------------

class AuditEntry(SQLModel, table=True):
    """One audited action; `hash` chains it to the entry before (see sandbox.audit)."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = _utc_column()
    actor_id: int | None = None
    actor_role: str = Field(default="", max_length=32)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=200)
    request: str = Field(default="", max_length=300)
    source: str = Field(default="", max_length=64)
    outcome: str = Field(default="ok", max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's tip, one row: deleting the newest entries cannot go unnoticed."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class AuditEntryPublic(SQLModel):
    seq: int
    at: datetime
    actor_id: int | None
    actor_role: str
    action: str
    target: str
    request: str
    source: str
    outcome: str
    hash: str


# --- tokens and API keys -------------------------------------------------------------------

class RevokedToken(SQLModel, table=True):
    """A logged-out bearer token, kept until it would have expired anyway."""

    __tablename__ = "revoked_token"
    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class KeyScope(StrEnum):
    trial = "trial"
    unit = "unit"


class KeyAccess(StrEnum):
    read = "read"
    write = "write"


class ApiKeyBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    scope: KeyScope = Field(sa_type=_enum(KeyScope))
    scope_id: int
    access: KeyAccess = Field(sa_type=_enum(KeyAccess))
    expires_at: datetime = Field(sa_type=UTCDateTime)


class ApiKey(ApiKeyBase, table=True):
    """A device's or simulator bridge's credential: only its SHA-256 is stored."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = _utc_column()
    revoked_at: datetime | None = _utc_column(nullable=True)


class ApiKeyCreate(Input):
    name: str = Field(min_length=1, max_length=120)
    scope: KeyScope
    scope_id: Id
    access: KeyAccess
    expires_in_s: int = Field(default=30 * 86400, gt=0, le=365 * 86400)


class ApiKeyPublic(ApiKeyBase):
    id: int
    prefix: str
    created_by_id: int
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="shown once; only its hash is kept")


# --- telemetry sessions --------------------------------------------------------------------

class TelemetrySession(SQLModel, table=True):
    """One device's telemetry in a trial; the messages live in Parquet, this row indexes them."""

    __tablename__ = "telemetry_session"
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    sysid: int | None = Field(default=None, index=True)
    source: str = Field(max_length=16)
    token_hash: str = Field(default="", max_length=64)
    created_at: datetime = _utc_column()
    messages: int = Field(default=0, sa_type=sa.BigInteger)
    bytes_on_disk: int = Field(default=0, sa_type=sa.BigInteger)
    batches: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))
    crc_failures: int = Field(default=0, sa_type=sa.BigInteger)
    link_lost: int = Field(default=0, sa_type=sa.BigInteger)


class TelemetrySessionCreate(Input):
    sysid: int | None = Field(default=None, ge=1, le=255,
                              description="MAVLink system id, to match UDP/TCP traffic")


class TelemetrySessionPublic(SQLModel):
    id: int
    trial_id: int
    sysid: int | None
    source: str
    created_at: datetime
    messages: int
    bytes_on_disk: int
    batches: int
    counts: dict[str, int]
    crc_failures: int
    link_lost: int


class TelemetrySessionCreated(TelemetrySessionPublic):
    token: str = Field(description="for /ws/telemetry/{id}?token=…; shown once")


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
    from_status: SandboxStatus = Field(sa_type=_enum(SandboxStatus))
    to_status: SandboxStatus = Field(sa_type=_enum(SandboxStatus))
    rationale: str = Field(max_length=5000)
    conditions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    expires_at: datetime | None = _utc_column(nullable=True)
    priority_licence: bool = False
    gate_overridden: bool = False
    decided_by_id: int = Field(foreign_key="user.id")
    decided_at: datetime = _utc_column()


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
    severity: Severity = Field(sa_type=_enum(Severity))
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=5000)


class Finding(FindingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: FindingStatus = Field(default=FindingStatus.open, sa_type=_enum(FindingStatus))
    resolution: str = Field(default="", max_length=5000)
    raised_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = _utc_column()
    closed_at: datetime | None = _utc_column(nullable=True)


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
