"""Access and audit: the hash-chained audit log, revoked tokens, API keys."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sandbox.models.common import Id, Input, enum_column, utc_column
from sandbox.timeutil import UTCDateTime, utcnow

# --- audit ---------------------------------------------------------------------------------

class AuditEntry(SQLModel, table=True):
    """One audited action; `hash` chains it to the entry before (see sandbox.audit)."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = utc_column()
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
    legacy_seq: int = Field(default=0, description="the last entry written before the chain "
                                                   "was keyed (plain SHA-256)")


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


# --- log-in back-off -----------------------------------------------------------------------

class LoginFailure(SQLModel, table=True):
    """Failed log-ins for one account name from one source address, in a row: the back-off
    applies to that pair only, so nobody can lock a soldier out from elsewhere."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.UniqueConstraint("name", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    source: str = Field(max_length=64)
    failures: int = 0
    blocked_until: datetime = utc_column()
    last_failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


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
    scope: KeyScope = Field(sa_type=enum_column(KeyScope))
    scope_id: int
    access: KeyAccess = Field(sa_type=enum_column(KeyAccess))
    expires_at: datetime = Field(sa_type=UTCDateTime)


class ApiKey(ApiKeyBase, table=True):
    """A device's or simulator bridge's credential: only its SHA-256 is stored."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_column()
    revoked_at: datetime | None = utc_column(nullable=True)


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


