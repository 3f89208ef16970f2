"""simulation jobs: the durable queue of simulations, with each job's status and progress

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "simulation_job",
        sa.Column("id", text(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("quota", text(length=40), nullable=False),
        sa.Column("running_limit", sa.Integer(), nullable=False),
        sa.Column("scenario", text(length=64), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("done_runs", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=True),
        sa.Column("error", text(length=500), nullable=True),
        sa.Column("claimed_by", text(length=120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["version.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_simulation_job_organisation_id", "simulation_job", ["organisation_id"])
    op.create_index("ix_simulation_job_quota_status", "simulation_job", ["quota", "status"])
    op.create_index("ix_simulation_job_status", "simulation_job", ["status"])
    op.create_index("ix_simulation_job_version_id", "simulation_job", ["version_id"])


def downgrade() -> None:
    for name in ("version_id", "status", "quota_status", "organisation_id"):
        op.drop_index(f"ix_simulation_job_{name}", table_name="simulation_job")
    op.drop_table("simulation_job")
