"""dis tracks: the DIS entities whose Entity State PDUs are telemetry sessions

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dis_entity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telemetry_session_id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.Integer(), nullable=False),
        sa.Column("application", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("force_id", sa.Integer(), nullable=False),
        sa.Column("home_alt_mm", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["telemetry_session_id"], ["telemetry_session.id"]),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trial_id", "exercise_id", "site", "application", "number"),
        sa.UniqueConstraint("telemetry_session_id"),
    )
    with op.batch_alter_table("dis_entity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dis_entity_trial_id"), ["trial_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dis_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dis_entity_trial_id"))
    op.drop_table("dis_entity")
