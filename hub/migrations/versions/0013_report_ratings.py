"""report ratings: every rating optional (a text-only report is kept), and the ratings the
field asks for (resistance to electronic warfare, build quality, wind, maintenance)

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST = ("effectiveness", "ease_of_use", "reliability")
ADDED = ("ew_resistance", "build_quality", "wind_behaviour", "ease_of_maintenance")


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        for name in FIRST:
            batch_op.alter_column(name, existing_type=sa.Integer(), nullable=True)
        for name in ADDED:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    unrated = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM report WHERE " + " OR ".join(f"{n} IS NULL" for n in FIRST)
    )).scalar_one()
    if unrated:  # the old schema cannot hold them, and a made-up rating would be a lie
        raise RuntimeError(f"{unrated} reports lack one of {', '.join(FIRST)}: "
                           "delete or rate them before downgrading")
    with op.batch_alter_table("report", schema=None) as batch_op:
        for name in reversed(ADDED):
            batch_op.drop_column(name)
        for name in FIRST:
            batch_op.alter_column(name, existing_type=sa.Integer(), nullable=False)
