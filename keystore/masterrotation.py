"""Master key rotation: every stored secret re-wrapped under a new master key, at once."""

from __future__ import annotations

from sqlalchemy import select

from keystore.admins import AdminService
from keystore.db import Keystore
from keystore.masterkey import MasterKey, key_aad
from keystore.models import Admin, Recipient, RecipientKey
from keystore.recipients import RecipientService


def rotate_master_key(keystore: Keystore, new_key: MasterKey) -> int:
    """Re-wrap every live recipient key, security phrase and admin TOTP secret under `new_key`.

    The keystore's current master key must open every one; nothing is changed when one
    fails. Afterwards the keystore uses `new_key`. Returns the number of recipient keys
    re-wrapped.
    """
    old_key = keystore.master_key
    count = 0
    with keystore.session() as session:
        rows = session.scalars(
            select(RecipientKey).where(RecipientKey.wrapped_key.is_not(None)).with_for_update()
        )
        for row in rows:
            assert row.wrapped_key is not None
            aad = key_aad(row.recipient_id, row.version)
            row.wrapped_key = new_key.wrap(old_key.unwrap(row.wrapped_key, aad), aad)
            row.master_key_id = new_key.key_id
            count += 1
        old_admins = AdminService(session, master_key=old_key)
        new_admins = AdminService(session, master_key=new_key)
        for admin in session.scalars(
            select(Admin).where(Admin.totp_secret.is_not(None)).with_for_update()
        ):
            new_admins.set_totp_secret(admin, old_admins.totp_secret(admin))
        old_recipients = RecipientService(session, master_key=old_key)
        new_recipients = RecipientService(session, master_key=new_key)
        for recipient in session.scalars(
            select(Recipient).where(Recipient.security_phrase.is_not(None)).with_for_update()
        ):
            phrase = old_recipients.security_phrase(recipient)
            new_recipients.set_security_phrase(recipient, phrase)
    keystore.master_key = new_key
    return count
