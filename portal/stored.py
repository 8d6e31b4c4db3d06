"""The customer's stored messages as the reading path needs them: find an envelope again.

A message in the secure mailbox is opened, downloaded and answered by the same pages as a
secure.htm (`portal.reader`, `portal.reply`). Their forms carry the envelope; for a stored
message they carry its entry id instead, and `carried_envelope` reads the envelope from
the mailbox of the logged-in customer. `g.mailbox_entry` then tells the pages to keep
carrying the id (see the `carried` macro).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import g, session, url_for

from keystore.mailbox import MailboxService
from portal.context import Services, runtime, services
from portal.identity import current_recipient

ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,43}")
"""What an entry id looks like (anything else is not looked up)."""
NEXT_KEY = "after_login"
"""The stored message to open after login (the link of a notification mail)."""


def mailbox(found: Services) -> MailboxService:
    """Return the mailbox service of `found`'s database session."""
    return runtime().keystore.mailbox(found.session)


@dataclass(frozen=True)
class Lookup:
    """What looking up a stored message found: who asked (None: nobody logged in) and the
    armored envelope (empty when the message is not in their mailbox, or no longer)."""

    recipient_id: int | None
    envelope: str


def look_up(entry_id: str) -> Lookup:
    """Find the stored envelope `entry_id` of the logged-in customer."""
    with services() as found:
        recipient = current_recipient(found)
        if recipient is None:
            return Lookup(None, "")
        recipient_id = int(recipient.id)
        data = mailbox(found).envelope(recipient_id, entry_id) if is_entry_id(entry_id) else None
    if not data:
        return Lookup(recipient_id, "")
    g.mailbox_entry = entry_id
    return Lookup(recipient_id, data.decode("ascii", "replace"))


def is_entry_id(text: str) -> bool:
    """Tell whether `text` can be an entry id."""
    return bool(ENTRY_ID.fullmatch(text))


def stored_envelope(entry_id: str) -> str:
    """Return the envelope of the logged-in customer's stored message (empty if none)."""
    return look_up(entry_id).envelope


def remember_target(entry_id: str) -> None:
    """Open the stored message `entry_id` after the next login in this browser."""
    if is_entry_id(entry_id):
        session[NEXT_KEY] = entry_id


def target_after_login() -> str | None:
    """Return (once) where to go after login: the remembered message, if any."""
    entry_id = session.pop(NEXT_KEY, None)
    if isinstance(entry_id, str) and is_entry_id(entry_id):
        return url_for("inbox.entry", entry_id=entry_id)
    return None


def mark_read_copy(found: Services, recipient_id: int, message_id: str, when: datetime) -> None:
    """Mark the mailbox copy of a message read when it was opened another way (secure.htm
    of the delivery method "both"), so the inbox does not call it unread."""
    box = mailbox(found)
    entry_id = box.stored_as(recipient_id, message_id)
    if entry_id is not None:
        box.mark_read(recipient_id, entry_id, when)
