"""Room for admin TOTP secrets wrapped under the master key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Secrets stored in clear by earlier releases stay readable and are wrapped at the admin's
next login (see `keystore.admins`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Widen admins.totp_secret for the wrapped form."""
    with op.batch_alter_table("admins") as batch:
        batch.alter_column(
            "totp_secret",
            existing_type=sa.String(64),
            type_=sa.String(255),
            existing_nullable=True,
        )


def downgrade() -> None:
    """Narrow the column again (only when no wrapped secret would be cut off)."""
    wrapped = op.get_bind().scalar(
        sa.text("SELECT COUNT(*) FROM admins WHERE totp_secret LIKE 'wrapped:%'")
    )
    if wrapped:
        raise RuntimeError(
            f"{wrapped} admin account(s) have a wrapped TOTP secret, which the older schema "
            "cannot hold; run `webcrypt admin reset-2fa EMAIL` for each before downgrading"
        )
    with op.batch_alter_table("admins") as batch:
        batch.alter_column(
            "totp_secret",
            existing_type=sa.String(255),
            type_=sa.String(64),
            existing_nullable=True,
        )
