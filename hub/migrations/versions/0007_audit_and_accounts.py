"""audit and accounts: the keyed audit chain's legacy boundary, per-address log-in back-off

Revision ID: 0007
Revises: 0006

Entries already in the audit log keep their plain SHA-256 hashes: `legacy_seq` marks the last
of them, and new entries are keyed (HMAC) and chain onto them. They are not re-chained with the
key, which would bless whatever had been done to them before. The account-wide lock-out
(user.failed_logins, user.locked_until) gives way to a back-off per (name, source address).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_head", sa.Column("legacy_seq", sa.Integer(), nullable=False,
                                          server_default="0"))
    op.execute("UPDATE audit_head SET legacy_seq = seq")
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "source"),
    )
    op.create_index(op.f("ix_login_failure_last_failed_at"), "login_failure",
                    ["last_failed_at"], unique=False)
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of "user" would trip its foreign keys.
    op.drop_column("user", "locked_until")
    op.drop_column("user", "failed_logins")


def downgrade() -> None:
    op.add_column("user", sa.Column("failed_logins", sa.Integer(), nullable=False,
                                    server_default="0"))
    op.add_column("user", sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_index(op.f("ix_login_failure_last_failed_at"), table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_column("audit_head", "legacy_seq")
