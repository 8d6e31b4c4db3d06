"""Sealing outside the filter: one message for one recipient, for batch senders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import make_msgid
from typing import Any, BinaryIO

from keystore.addresses import normalize_address
from webcrypt import envelope
from webcrypt.errors import WebcryptError
from webcrypt.mail.message import MailMessage
from webcrypt.sealing.branding import Branding
from webcrypt.sealing.securehtm import secure_htm_pieces


class BatchError(WebcryptError):
    """The message cannot be sealed for this recipient; the text says why."""


@dataclass(frozen=True)
class BatchResult:
    """The sealed page, and the PIN when the account was created by this call.

    The page is kept in the pieces it was made of (ASCII), so a large message is not
    copied into it: `write` writes them out, `secure_htm` joins them.
    """

    recipient: str
    message_id: str
    pieces: tuple[bytes, ...] = field(repr=False)
    pin: str | None

    @property
    def secure_htm(self) -> str:
        """The whole page as text (a copy of the sealed message)."""
        return b"".join(self.pieces).decode("ascii")

    def write(self, stream: BinaryIO) -> None:
        """Write the page to a binary stream, piece by piece."""
        for piece in self.pieces:
            stream.write(piece)


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
        page = secure_htm_pieces(
            sealed.armored_pieces(address, final_newline=False),
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
    return BatchResult(recipient=address, message_id=message_id, pieces=tuple(page), pin=pin)
