"""scores by condition: aggregates of engagements per version, trial kind, scenario and threat
kind (with a time-to-intercept histogram), and outcome counts per trial; filled from the
engagements already stored

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sandbox.aggregates import TABLES, recount

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONDITION = ("version_id", "trial_kind", "scenario", "threat_kind")
OUTCOMES = {"intercepts": "intercept", "misses": "miss", "aborts": "abort",
            "fratricides": "fratricide"}


def _condition_columns() -> list[sa.Column]:
    return [sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("trial_kind", sa.String(length=32), nullable=False),
            sa.Column("scenario", sa.String(length=120), nullable=False),
            sa.Column("threat_kind", sa.String(length=40), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "score_aggregate", *_condition_columns(),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (
            "engagements", *OUTCOMES, "interceptors_used", "operating_cost_cents",
            "threat_cost_cents")),
        sa.ForeignKeyConstraint(["version_id"], ["version.id"]),
        sa.PrimaryKeyConstraint(*CONDITION))
    op.create_table(
        "score_time_bin", *_condition_columns(),
        sa.Column("bin", sa.SmallInteger(), nullable=False),
        sa.Column("intercepts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["version.id"]),
        sa.PrimaryKeyConstraint(*CONDITION, "bin"))
    op.create_table(
        "trial_outcome_count",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("engagements", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"]),
        sa.PrimaryKeyConstraint("trial_id", "outcome"))
    _fill_from_engagements()


def _fill_from_engagements() -> None:
    """The GROUP BY of `soldierslab scores rebuild`, against this revision's tables."""
    engagement = sa.table("engagement", *(sa.column(name) for name in (
        "trial_id", "threat_kind", "outcome", "interceptors_used", "operating_cost_cents",
        "threat_cost_cents", "time_to_intercept_s")))
    trial = sa.table("trial", sa.column("id"), sa.column("version_id"), sa.column("kind"),
                     sa.column("scenario"))
    for name, query in recount(engagement, trial).items():
        columns = TABLES[name][1]
        op.execute(sa.table(name, *(sa.column(c) for c in columns)).insert()
                   .from_select(list(columns), query))


def downgrade() -> None:
    op.drop_table("trial_outcome_count")
    op.drop_table("score_time_bin")
    op.drop_table("score_aggregate")
