"""Score aggregates: the engagements of each version tallied by condition (trial kind ×
scenario × threat kind), kept in the transaction that writes the engagements, so that scores,
boards and pages never read the engagements themselves. `sandbox.scoring` explains the time
bins; `sandbox.aggregates` keeps and rebuilds these rows."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from sandbox.models.common import enum_column
from sandbox.models.registry import Outcome, TrialKind


class ConditionKey(SQLModel):
    """One condition of one version."""

    version_id: int = Field(foreign_key="version.id", primary_key=True)
    trial_kind: TrialKind = Field(sa_type=enum_column(TrialKind), primary_key=True)
    scenario: str = Field(max_length=120, primary_key=True)
    threat_kind: str = Field(max_length=40, primary_key=True)


class ScoreAggregate(ConditionKey, table=True):
    """Totals of one condition of one version."""

    __tablename__ = "score_aggregate"
    engagements: int = Field(default=0, sa_type=sa.BigInteger)
    intercepts: int = Field(default=0, sa_type=sa.BigInteger)
    misses: int = Field(default=0, sa_type=sa.BigInteger)
    aborts: int = Field(default=0, sa_type=sa.BigInteger)
    fratricides: int = Field(default=0, sa_type=sa.BigInteger)
    interceptors_used: int = Field(default=0, sa_type=sa.BigInteger)
    operating_cost_cents: int = Field(default=0, sa_type=sa.BigInteger)
    threat_cost_cents: int = Field(default=0, sa_type=sa.BigInteger)


class ScoreTimeBin(ConditionKey, table=True):
    """Intercepts of one condition of one version whose time to intercept fell in one bin."""

    __tablename__ = "score_time_bin"
    bin: int = Field(primary_key=True, sa_type=sa.SmallInteger)
    intercepts: int = Field(default=0, sa_type=sa.BigInteger)


class TrialOutcomeCount(SQLModel, table=True):
    """Engagements of one trial with one outcome (the trial lists on pages)."""

    __tablename__ = "trial_outcome_count"
    trial_id: int = Field(foreign_key="trial.id", primary_key=True)
    outcome: Outcome = Field(sa_type=enum_column(Outcome), primary_key=True)
    engagements: int = Field(default=0, sa_type=sa.BigInteger)
