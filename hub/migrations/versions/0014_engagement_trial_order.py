"""engagements indexed by (trial, id): a trial's first engagement, which the loop's "outcome
to score" needs for every recent trial, is one index probe instead of a scan of the trial

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_engagement_trial_id_id", "engagement", ["trial_id", "id"])
    op.drop_index("ix_engagement_trial_id", table_name="engagement")


def downgrade() -> None:
    op.create_index("ix_engagement_trial_id", "engagement", ["trial_id"])
    op.drop_index("ix_engagement_trial_id_id", table_name="engagement")
