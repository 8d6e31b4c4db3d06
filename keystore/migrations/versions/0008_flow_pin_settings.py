"""Two PIN settings instead of one: the stored ``pin_delivery`` becomes ``reset_pin``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``pin_delivery`` only ever decided where the PIN after an admin reset goes; its value
(``adviser`` or ``recipient``) is a valid ``reset_pin``. The first-contact PIN keeps its
default, the adviser.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SETTINGS = sa.table("settings", sa.column("name", sa.String(64)))


def upgrade() -> None:
    connection = op.get_bind()
    taken = connection.execute(
        sa.select(_SETTINGS.c.name).where(_SETTINGS.c.name == "reset_pin")
    ).first()
    if taken is None:
        op.execute(
            _SETTINGS.update().where(_SETTINGS.c.name == "pin_delivery").values(name="reset_pin")
        )
    op.execute(_SETTINGS.delete().where(_SETTINGS.c.name == "pin_delivery"))


def downgrade() -> None:
    connection = op.get_bind()
    row = connection.execute(sa.text("SELECT value FROM settings WHERE name = 'reset_pin'")).first()
    if row is not None and row[0] in ('"adviser"', '"recipient"'):
        op.execute(
            _SETTINGS.update().where(_SETTINGS.c.name == "reset_pin").values(name="pin_delivery")
        )
