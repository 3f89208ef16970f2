"""The telemetry index: one SQL row per session; the messages themselves live in Parquet."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from sandbox.models.common import Input, utc_column

# --- telemetry sessions --------------------------------------------------------------------

class TelemetrySession(SQLModel, table=True):
    """One device's telemetry in a trial; the messages live in Parquet, this row indexes them."""

    __tablename__ = "telemetry_session"
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    sysid: int | None = Field(default=None, index=True)
    source: str = Field(max_length=16)
    token_hash: str = Field(default="", max_length=64)
    created_at: datetime = utc_column()
    messages: int = Field(default=0, sa_type=sa.BigInteger)
    bytes_on_disk: int = Field(default=0, sa_type=sa.BigInteger)
    batches: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))
    crc_failures: int = Field(default=0, sa_type=sa.BigInteger)
    link_lost: int = Field(default=0, sa_type=sa.BigInteger)
    # Live UDP/TCP ingest: datagrams carrying this session's frames, datagrams the kernel
    # dropped on that listener meanwhile (it does not say whose), frames the decoder refused.
    datagrams: int = Field(default=0, sa_type=sa.BigInteger)
    listener_drops: int = Field(default=0, sa_type=sa.BigInteger)
    unknown_ids: int = Field(default=0, sa_type=sa.BigInteger)
    incompatible_flags: int = Field(default=0, sa_type=sa.BigInteger)
    # File ingest: what the file was ("tlog", "dataflash", "ulog"), and until when a row whose
    # files are still being moved into place may stay unfinished before it is swept away.
    log_format: str | None = Field(default=None, max_length=16)
    pending_until: datetime | None = utc_column(nullable=True)


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
    datagrams: int
    listener_drops: int
    unknown_ids: int
    incompatible_flags: int
    log_format: str | None


class TelemetrySessionCreated(TelemetrySessionPublic):
    token: str = Field(description="for /ws/telemetry/{id}?token=…; shown once")


