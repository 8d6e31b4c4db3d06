"""Index recipients by creator and creation time, for the cap on new recipients per sender.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the index the filter counts a sender's recent new recipients with."""
    op.create_index(
        "ix_recipients_created_by_created_at", "recipients", ["created_by", "created_at"]
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_recipients_created_by_created_at", table_name="recipients")
