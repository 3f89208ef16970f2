"""telemetry files

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telemetry_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_format", sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=True))
        batch_op.add_column(sa.Column("pending_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telemetry_session", schema=None) as batch_op:
        batch_op.drop_column("pending_until")
        batch_op.drop_column("log_format")
