"""Sealed messages parked for minutes while their reader resets a password or the language.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from keystore.columns import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    """Add the parked_envelopes table."""
    op.create_table(
        "parked_envelopes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "envelope",
            sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_parked_envelopes"),
        **MYSQL,
    )
    op.create_index(
        "ix_parked_envelopes_token_hash", "parked_envelopes", ["token_hash"], unique=True
    )
    op.create_index("ix_parked_envelopes_expires_at", "parked_envelopes", ["expires_at"])


def downgrade() -> None:
    """Drop the parked_envelopes table (parked messages are opened from secure.htm again)."""
    op.drop_index("ix_parked_envelopes_expires_at", table_name="parked_envelopes")
    op.drop_index("ix_parked_envelopes_token_hash", table_name="parked_envelopes")
    op.drop_table("parked_envelopes")
