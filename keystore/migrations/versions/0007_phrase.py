"""Room for security phrases wrapped under the master key; wrap the ones stored in clear.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Run through `Keystore.upgrade` the migration has the master key and wraps every clear
phrase at once. Run without it (plain `alembic upgrade`), clear phrases stay readable and
are wrapped at the customer's next login (see `keystore.recipients`).
"""

from __future__ import annotations

import base64

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen copies of keystore.masterkey.WRAPPED_TEXT and keystore.recipients.phrase_aad as of
# this revision.
_WRAPPED = "wrapped:"


def _aad(recipient_id: int) -> bytes:
    return b"webcrypt-recipient-phrase:" + str(recipient_id).encode("ascii")


# SQLite rebuilds the table for the change; keep ids of deleted accounts from being reused.
_TABLE_KWARGS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    """Widen recipients.security_phrase for the wrapped form and wrap clear phrases."""
    with op.batch_alter_table("recipients", table_kwargs=_TABLE_KWARGS) as batch:
        batch.alter_column(
            "security_phrase",
            existing_type=sa.String(255),
            type_=sa.String(1024),
            existing_nullable=True,
        )
    master_key = context.config.attributes.get("master_key")
    if master_key is None:
        return
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, security_phrase FROM recipients "
            "WHERE security_phrase IS NOT NULL AND security_phrase NOT LIKE 'wrapped:%'"
        )
    ).all()
    for recipient_id, phrase in rows:
        cleaned = phrase.strip()
        wrapped = None
        if cleaned:
            blob = master_key.wrap(cleaned.encode("utf-8"), _aad(recipient_id))
            wrapped = _WRAPPED + base64.b64encode(blob).decode("ascii")
        bind.execute(
            sa.text("UPDATE recipients SET security_phrase = :phrase WHERE id = :id"),
            {"phrase": wrapped, "id": recipient_id},
        )


def downgrade() -> None:
    """Narrow the column again (only when no wrapped phrase would be cut off)."""
    wrapped = op.get_bind().scalar(
        sa.text("SELECT COUNT(*) FROM recipients WHERE security_phrase LIKE 'wrapped:%'")
    )
    if wrapped:
        raise RuntimeError(
            f"{wrapped} account(s) have a wrapped security phrase, which the older schema "
            "cannot hold; set the column security_phrase of the table recipients to NULL "
            "first (the customers then choose their phrases again)"
        )
    with op.batch_alter_table("recipients", table_kwargs=_TABLE_KWARGS) as batch:
        batch.alter_column(
            "security_phrase",
            existing_type=sa.String(1024),
            type_=sa.String(255),
            existing_nullable=True,
        )
