"""Privacy state: feedback released to engineers in batches, each company's differential-
privacy budget, and the secret site of a trial that was logged without one."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from sandbox.models.common import utc_column


class FeedbackRelease(SQLModel, table=True):
    """One batch of a prototype's soldier feedback released to its company's engineers.

    A batch holds the engagements and reports with ids above the previous batch's marks and
    up to its own; `levels` is the generalisation of each quasi-identifier it was checked at
    (levels never fall from one batch to the next, see sandbox.anonymise).
    """

    __tablename__ = "feedback_release"
    id: int | None = Field(default=None, primary_key=True)
    prototype_id: int = Field(foreign_key="prototype.id", index=True)
    engagement_upto: int = Field(default=0, sa_type=sa.BigInteger)
    report_upto: int = Field(default=0, sa_type=sa.BigInteger)
    levels: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))
    engagements: int = Field(default=0, sa_type=sa.BigInteger)
    reports: int = 0
    suppressed: int = 0
    released_at: datetime = utc_column()


class PrivacyBudget(SQLModel, table=True):
    """The differential-privacy budget (epsilon) of one company's engineers, and its use."""

    __tablename__ = "privacy_budget"
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    epsilon_total: float
    epsilon_spent: float = 0.0
    queries: int = 0
    updated_at: datetime = utc_column()


class TrialSite(SQLModel, table=True):
    """Where a trial logged without a site took place: its first good position fix. Secret:
    only the origin derived from it (a secret offset away) shapes what anyone else sees."""

    __tablename__ = "trial_site"
    trial_id: int = Field(foreign_key="trial.id", primary_key=True)
    lat: float
    lon: float
    created_at: datetime = utc_column()

