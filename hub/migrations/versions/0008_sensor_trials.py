"""sensor trials: sensor sessions, jammer activations, detection and effect summaries

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def _trial() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["trial_id"], ["trial.id"])


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "sensor_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("node_id", String(length=36), nullable=True),
        sa.Column("source", String(length=16), nullable=False),
        sa.Column("name", String(length=120), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("alt_m", sa.Float(), nullable=True),
        sa.Column("evaluated_range_m", sa.Float(), nullable=False),
        sa.Column("gate_m", sa.Float(), nullable=False),
        sa.Column("target_classes", sa.JSON(), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("detections", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("bytes_on_disk", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _trial(),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("sensor_session", "node_id")
    _index("sensor_session", "trial_id")
    op.create_table(
        "detection_summary",
        sa.Column("sensor_session_id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("detected", sa.Integer(), nullable=False),
        sa.Column("false_alarms", sa.Integer(), nullable=False),
        sa.Column("evaluated_s", sa.Float(), nullable=False),
        sa.Column("bins", sa.JSON(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sensor_session_id"], ["sensor_session.id"]),
        _trial(),
        sa.PrimaryKeyConstraint("sensor_session_id"),
    )
    _index("detection_summary", "trial_id")
    op.create_table(
        "ew_activation",
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("band", String(length=32), nullable=False),
        sa.Column("power_w", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _trial(),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("ew_activation", "trial_id")
    op.create_table(
        "ew_effect_summary",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("activations", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Integer(), nullable=False),
        sa.Column("median_time_to_effect_s", sa.Float(), nullable=True),
        sa.Column("effect_range_m", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        _trial(),
        sa.PrimaryKeyConstraint("trial_id"),
    )


def downgrade() -> None:
    op.drop_table("ew_effect_summary")
    for table, columns in (("ew_activation", ["trial_id"]), ("detection_summary", ["trial_id"]),
                           ("sensor_session", ["trial_id", "node_id"])):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
