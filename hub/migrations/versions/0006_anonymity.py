"""anonymity: feedback released in batches, privacy budgets, secret sites of trials

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prototype_id", sa.Integer(), nullable=False),
        sa.Column("engagement_upto", sa.BigInteger(), nullable=False),
        sa.Column("report_upto", sa.BigInteger(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=True),
        sa.Column("engagements", sa.BigInteger(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["prototype_id"], ["prototype.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_release_prototype_id"), ["prototype_id"],
                              unique=False)
    op.create_table(
        "privacy_budget",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("epsilon_total", sa.Float(), nullable=False),
        sa.Column("epsilon_spent", sa.Float(), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("organisation_id"),
    )
    op.create_table(
        "trial_site",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"]),
        sa.PrimaryKeyConstraint("trial_id"),
    )


def downgrade() -> None:
    op.drop_table("trial_site")
    op.drop_table("privacy_budget")
    with op.batch_alter_table("feedback_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_release_prototype_id"))
    op.drop_table("feedback_release")
