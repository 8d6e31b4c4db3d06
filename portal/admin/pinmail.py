"""The mail with a new one-time PIN after an admin reset a recipient's password.

Where it goes follows the ``pin_delivery`` setting: to the adviser who created the account
(who passes it on by phone) or straight to the recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webcrypt.notices import compose, language, render_mail, system_sender


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
    *, recipient: Any, pin: str, settings: Any, portal_url: str, internal_domain: str
) -> PinMail:
    """Render the PIN mail for `recipient` in the right language, to the right person.

    The mail comes from the product at the adviser's domain (or `internal_domain`), never
    from the recipient's own domain.
    """
    to, delivery = destination(recipient, settings)
    adviser = str(recipient.created_by or "")
    sender_domain_of = adviser if "@" in adviser else f"postmaster@{internal_domain}"
    if delivery == "recipient":
        lang = language(recipient.language, settings.default_language)
        name = "pin_reset_recipient"
    else:
        lang = language(None, settings.default_language)
        name = "pin_reset"
    rendered = render_mail(
        "mail",
        name,
        lang,
        product_name=settings.product_name,
        contact=settings.contact(lang),
        recipient=recipient.address,
        pin=pin,
        portal_url=portal_url,
    )
    data = compose(
        sender=system_sender(settings.product_name, sender_domain_of),
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=[("Auto-Submitted", "auto-generated")],
    )
    # Null sender, as for every notice of the gateway: no bounce loops.
    return PinMail(data=data, mail_from="", to=to, delivery=delivery)
