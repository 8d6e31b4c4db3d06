"""Two PIN settings instead of one, a phone number for PINs by SMS, and portal mails.

The stored ``pin_delivery`` becomes ``reset_pin``; the table ``portal_messages`` records the
Message-ID of each mail a recipient sends from the portal, so that the filter can seal an
adviser's answer to it (the thread rule).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

``pin_delivery`` only ever decided where the PIN after an admin reset goes; its value
(``adviser`` or ``recipient``) is a valid ``reset_pin``. The first-contact PIN keeps its
default, the adviser.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from keystore.columns import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}

_SETTINGS = sa.table("settings", sa.column("name", sa.String(64)))


def upgrade() -> None:
    op.create_table(
        "portal_messages",
        sa.Column("message_id", sa.String(255), primary_key=True),
        sa.Column(
            "recipient_id",
            sa.Integer,
            sa.ForeignKey("recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_portal_messages_sent_at", "portal_messages", ["sent_at"])
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))
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
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("phone")
    op.drop_index("ix_portal_messages_sent_at", table_name="portal_messages")
    op.drop_table("portal_messages")
    connection = op.get_bind()
    row = connection.execute(sa.text("SELECT value FROM settings WHERE name = 'reset_pin'")).first()
    if row is not None and row[0] in ('"adviser"', '"recipient"'):
        op.execute(
            _SETTINGS.update().where(_SETTINGS.c.name == "reset_pin").values(name="pin_delivery")
        )
