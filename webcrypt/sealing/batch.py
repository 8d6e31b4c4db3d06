"""Sealing outside the filter: one message for one recipient, for batch senders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from keystore.addresses import normalize_address
from webcrypt import envelope
from webcrypt.errors import WebcryptError
from webcrypt.mail.message import MailMessage
from webcrypt.sealing.branding import Branding
from webcrypt.sealing.securehtm import render_secure_htm


class BatchError(WebcryptError):
    """The message cannot be sealed for this recipient; the text says why."""


@dataclass(frozen=True)
class BatchResult:
    """The sealed page, and the PIN when the account was created by this call."""

    recipient: str
    message_id: str
    secure_htm: str
    pin: str | None


def seal_one(runtime: Any, message: bytes, *, recipient: str, sender: str) -> BatchResult:
    """Seal `message` for `recipient`, creating the account if new, and record it in the ledger."""
    if not message.strip():
        raise BatchError("the message is empty; give an RFC 5322 mail (headers, blank line, body)")
    try:
        address = normalize_address(recipient)
    except ValueError as exc:
        raise BatchError(f"{recipient!r} is not an address: {exc}") from None
    if runtime.is_internal(address):
        raise BatchError(f"{address} is an internal address: internal mail is never encrypted")
    # The header block only: a parser would read the whole message, attachments included.
    message_id = MailMessage(message).message_id
    message_id = message_id or make_msgid(domain=sender.rpartition("@")[2]).strip("<>")
    settings = runtime.settings()
    now = runtime.clock()
    expires = now + timedelta(days=settings.message_expiry_days)
    portal_url = str(runtime.config.portal.public_url)

    keystore = runtime.keystore
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        account, pin = recipients.get_or_create(address, created_by=sender)
        if account.status != "active":
            raise BatchError(f"the account of {address} is deactivated; nothing was sealed")
        material = recipients.current_key(account)
        sealed = envelope.seal(
            message,
            [envelope.RecipientKey(address, material.key_id, material.version, material.key)],
            sender=sender,
            message_id=message_id,
            portal_url=portal_url,
            expires=expires,
            now=now,
        )
        header = sealed.headers[address]
        lang = account.language or settings.default_language
        page = render_secure_htm(
            sealed.armored(address),
            header,
            branding=Branding.from_settings(settings, lang),
            lang=lang,
        )
        keystore.ledger(session).record_sealed(
            message_id=message_id,
            recipient_id=account.id,
            sender=sender,
            created=header.created,
            expires=header.expires,
            key_version=material.version,
        )
    return BatchResult(recipient=address, message_id=message_id, secure_htm=page, pin=pin)
