"""The mail with a new one-time PIN after an admin reset a recipient's password.

Where it goes follows the ``pin_delivery`` setting: to the adviser who created the account
(who passes it on by phone) or straight to the recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webcrypt.lifecycle.mails import notice_mail


class NoDestination(Exception):
    """There is nobody to send the PIN to (no adviser on record)."""


@dataclass(frozen=True)
class PinMail:
    """A rendered PIN mail and its envelope."""

    data: bytes
    mail_from: str
    to: str
    delivery: str


def destination(recipient: Any, settings: Any) -> tuple[str, str]:
    """Return (address, "adviser" | "recipient") the PIN of `recipient` goes to.

    Raises NoDestination when it should go to the adviser but none is on record.
    """
    if settings.pin_delivery == "recipient":
        return str(recipient.address), "recipient"
    adviser = str(recipient.created_by or "").strip()
    if "@" not in adviser:
        raise NoDestination(
            "No adviser is on record for this account, so the new PIN cannot be sent to one. "
            "Set PIN delivery to 'recipient' in the settings, or ask the adviser to send a "
            "new secure message after deleting the account."
        )
    return adviser, "adviser"


def build_pin_mail(
    *, recipient: Any, pin: str, settings: Any, portal_url: str, internal_domain: str, now: datetime
) -> PinMail:
    """Render the PIN mail for `recipient` in the right language, to the right person.

    The mail comes from the product at the adviser's domain (or `internal_domain`), never
    from the recipient's own domain, with a null envelope sender like every notice.
    """
    to, delivery = destination(recipient, settings)
    adviser = str(recipient.created_by or "")
    mail = notice_mail(
        "pin_reset_recipient" if delivery == "recipient" else "pin_reset",
        to=to,
        domain_of=adviser if "@" in adviser else f"postmaster@{internal_domain}",
        settings=settings,
        lang=recipient.language if delivery == "recipient" else None,
        now=now,
        context={"recipient": recipient.address, "pin": pin, "portal_url": portal_url},
    )
    return PinMail(data=mail.build(), mail_from=mail.mail_from, to=to, delivery=delivery)
