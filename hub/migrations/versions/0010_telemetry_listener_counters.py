"""telemetry listener counters

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("datagrams", "listener_drops", "unknown_ids", "incompatible_flags")


def upgrade() -> None:
    with op.batch_alter_table("telemetry_session", schema=None) as batch_op:
        for name in COUNTERS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                          server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("telemetry_session", schema=None) as batch_op:
        for name in reversed(COUNTERS):
            batch_op.drop_column(name)
