"""Remember which mails the relay took per received transaction, so a retry sends none twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keystore.columns import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table of relayed mails and its index for expiry."""
    op.create_table(
        "relayed",
        sa.Column("message", sa.String(64), nullable=False),
        sa.Column("part", sa.String(32), nullable=False),
        sa.Column("relayed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message", "part", name="pk_relayed"),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_relayed_relayed_at", "relayed", ["relayed_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_relayed_relayed_at", table_name="relayed")
    op.drop_table("relayed")
