"""Mailed password-reset links, per-(address, IP) login throttling, PIN expiry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Outstanding PINs get their validity counted from the upgrade (their issue time was not
recorded before), so nobody's PIN expires the moment the gateway is upgraded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from keystore.columns import UTCDateTime, address_type

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    """Add the reset_tokens and login_throttles tables and two recipient columns."""
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("pin_issued_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("reset_failures", sa.Integer(), nullable=False, server_default="0")
        )
    recipients = sa.table(
        "recipients", sa.column("pin_hash", sa.String), sa.column("pin_issued_at", UTCDateTime())
    )
    op.execute(
        recipients.update()
        .where(recipients.c.pin_hash.is_not(None))
        .values(pin_issued_at=datetime.now(UTC))
    )
    op.create_table(
        "reset_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name="fk_reset_tokens_recipient_id_recipients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reset_tokens"),
        **MYSQL,
    )
    op.create_index("ix_reset_tokens_token_hash", "reset_tokens", ["token_hash"], unique=True)
    op.create_index("ix_reset_tokens_recipient_id", "reset_tokens", ["recipient_id"])
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address", address_type(), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_throttles"),
        sa.UniqueConstraint("address", "ip", name="uq_login_throttles_address_ip"),
        **MYSQL,
    )
    op.create_index("ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"])


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.drop_table("login_throttles")
    op.drop_table("reset_tokens")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("reset_failures")
        batch.drop_column("pin_issued_at")
