"""Per-adviser options (read receipts).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keystore.columns import UTCDateTime, address_type

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    """Create the adviser_options table."""
    op.create_table(
        "adviser_options",
        sa.Column("address", address_type(), nullable=False),
        sa.Column("read_receipts", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_adviser_options"),
        **MYSQL,
    )


def downgrade() -> None:
    """Drop the adviser_options table."""
    op.drop_table("adviser_options")
