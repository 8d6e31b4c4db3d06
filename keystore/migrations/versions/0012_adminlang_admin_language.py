"""The language an admin chose for the admin pages.

Revision ID: 0012_adminlang
Revises: 0011
Create Date: 2026-12-04

Empty for every admin at first: their pages follow the browser (Accept-Language) or the
footer switch until they choose a language, which then applies after every login.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_adminlang"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add admins.language."""
    with op.batch_alter_table("admins") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    """Drop admins.language (admin pages follow the browser again)."""
    with op.batch_alter_table("admins") as batch:
        batch.drop_column("language")
