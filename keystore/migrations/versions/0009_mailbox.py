"""The secure mailbox: stored envelopes in chunks, and each account's delivery method.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keystore.columns import UTCDateTime, blob_type

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}
# SQLite rebuilds the table for the change; keep ids of deleted accounts from being reused.
_TABLE_KWARGS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    """Create the mailbox tables and add recipients.delivery_method."""
    with op.batch_alter_table("recipients", table_kwargs=_TABLE_KWARGS) as batch:
        batch.add_column(sa.Column("delivery_method", sa.String(16), nullable=True))
    op.create_table(
        "mailbox_messages",
        sa.Column("id", sa.String(43), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("stored_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("summary", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipients.id"],
            name="fk_mailbox_messages_recipient_id_recipients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mailbox_messages"),
        sa.UniqueConstraint(
            "recipient_id", "message_id", name="uq_mailbox_messages_recipient_id_message_id"
        ),
        **MYSQL,
    )
    op.create_index(
        "ix_mailbox_messages_recipient_id_stored_at",
        "mailbox_messages",
        ["recipient_id", "stored_at"],
    )
    op.create_index("ix_mailbox_messages_expires_at", "mailbox_messages", ["expires_at"])
    op.create_index("ix_mailbox_messages_message_id", "mailbox_messages", ["message_id"])
    op.create_table(
        "mailbox_chunks",
        sa.Column("entry_id", sa.String(43), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", blob_type(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["mailbox_messages.id"],
            name="fk_mailbox_chunks_entry_id_mailbox_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "seq", name="pk_mailbox_chunks"),
        **MYSQL,
    )


def downgrade() -> None:
    """Drop the mailbox (its stored messages are lost) and the delivery method."""
    op.drop_table("mailbox_chunks")
    op.drop_index("ix_mailbox_messages_message_id", table_name="mailbox_messages")
    op.drop_index("ix_mailbox_messages_expires_at", table_name="mailbox_messages")
    op.drop_index("ix_mailbox_messages_recipient_id_stored_at", table_name="mailbox_messages")
    op.drop_table("mailbox_messages")
    with op.batch_alter_table("recipients", table_kwargs=_TABLE_KWARGS) as batch:
        batch.drop_column("delivery_method")
