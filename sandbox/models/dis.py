"""DIS entities seen by the bridge: each one's track is a telemetry session (source "dis")."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sandbox.models.common import utc_column


class DISEntity(SQLModel, table=True):
    """An entity of a DIS exercise in a trial; its Entity State PDUs are the session's track."""

    __tablename__ = "dis_entity"
    __table_args__ = (sa.UniqueConstraint("trial_id", "exercise_id", "site", "application",
                                          "number"),)
    id: int | None = Field(default=None, primary_key=True)
    telemetry_session_id: int = Field(foreign_key="telemetry_session.id", unique=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    exercise_id: int
    site: int
    application: int
    number: int
    entity_type: str = Field(max_length=40)  # dotted, as first seen: 1.2.102.1.3.0.0
    force_id: int
    # Its first height (WGS84 ellipsoid, mm) is its home, as an autopilot's is at arming:
    # relative_alt counts from it. Its first sighting is its boot: time_boot_ms counts from it.
    home_alt_mm: int = Field(sa_type=sa.BigInteger)
    first_seen_at: datetime = utc_column()
