"""Server-side session revocation and separate counters for wrong TOTP codes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Every recipient and admin gets a session generation: the portal writes it into the
session cookie at login and refuses a cookie whose generation is no longer the account's,
so logout, a new password, a reset, deactivation or deletion end every session at once on
every instance. Admins also get a counter and a lock for wrong TOTP codes (apart from the
wrong passwords) and the last TOTP time step used, which makes a code single-use.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keystore.columns import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _generation() -> sa.Column[int]:
    return sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    """Add the session generations and the admins' TOTP counters."""
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(_generation())
    with op.batch_alter_table("admins") as batch:
        batch.add_column(_generation())
        batch.add_column(
            sa.Column("failed_codes", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("codes_locked_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_totp_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop the columns again (open sessions keep working, codes are single-use no more)."""
    with op.batch_alter_table("admins") as batch:
        batch.drop_column("last_totp_step")
        batch.drop_column("codes_locked_until")
        batch.drop_column("failed_codes")
        batch.drop_column("session_generation")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("session_generation")
