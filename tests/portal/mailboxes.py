"""Putting messages into a customer's secure mailbox as delivery does: sealed envelope and
sealed summary, stored through the keystore's mailbox API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keystore.mailbox import new_entry_id
from tests.portal.helpers import ADVISER, CUSTOMER
from tests.support.runtime import Sealed, seal_for
from webcrypt import envelope
from webcrypt.sealing.summary import seal_summary, summarize


@dataclass(frozen=True)
class Stored:
    """A message in the mailbox: how it was sealed and its entry id."""

    sealed: Sealed
    entry_id: str
    raw: bytes


def store_message(
    runtime: Any,
    raw: bytes,
    *,
    to: str = CUSTOMER,
    sender: str = ADVISER,
    days: int = 30,
    summary: bytes | None = None,
) -> Stored:
    """Seal `raw` for `to` (account, key, ledger) and place it in their mailbox."""
    sealed = seal_for(runtime, raw, to=to, sender=sender, days=days)
    header = sealed.header
    now = runtime.clock()
    with runtime.keystore.session() as session:
        key = runtime.keystore.recipients(session).key(sealed.recipient_id, header.key_version)
        assert key is not None
        if summary is None:
            recipient = envelope.RecipientKey(
                address=sealed.recipient,
                key_id=header.key_id,
                key_version=header.key_version,
                key=bytes(key),
            )
            summary = seal_summary(
                summarize(raw, now=now),
                [recipient],
                sender=sender,
                message_id=sealed.message_id,
                portal_url=str(runtime.config.portal.public_url),
                expires=header.expires,
                now=now,
            )[sealed.recipient]
        entry = runtime.keystore.mailbox(session).store(
            sealed.recipient_id,
            new_entry_id(),
            message_id=sealed.message_id,
            key_version=header.key_version,
            envelope=sealed.armored.encode("ascii"),
            summary=summary,
            expires_at=header.expires,
        )
    return Stored(sealed, entry.id, raw)


def entry_state(runtime: Any, stored: Stored) -> Any:
    """Return the stored entry as the keystore has it now (None when deleted)."""
    with runtime.keystore.session() as session:
        return runtime.keystore.mailbox(session).entry(stored.sealed.recipient_id, stored.entry_id)
