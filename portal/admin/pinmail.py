"""The mail with a new one-time PIN after an admin reset a recipient's password.

Where it goes is decided by `webcrypt.sealing.pins` (for an admin reset: the ``reset_pin``
setting): to the adviser who created the account or the helpdesk (who pass it on by phone),
or straight to the recipient. When someone else has the PIN, the recipient gets a mail
without it that says their access was reset and who will give them the new PIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.context import runtime
from webcrypt.notices import access_reset_mail, pin_reset_mail, sending_address
from webcrypt.sealing.pins import ADMIN_RESET, PinDestination, pin_destination
from webcrypt.sealing.sms import masked_phone, pin_sms_text


@dataclass(frozen=True)
class PinMail:
    """A rendered PIN mail and its envelope."""

    data: bytes
    mail_from: str
    to: str
    delivery: str
    customer_notice: bytes | None = None
    """The mail to the recipient that says who has the PIN (None when the PIN goes to them)."""
    customer: str = ""
    sms_text: str = ""
    """The SMS to send to the phone number in `to` instead of a mail (when `delivery` is sms)."""

    @property
    def shown_to(self) -> str:
        """Who got the PIN, for admins and the audit log (a phone number mostly hidden)."""
        return masked_phone(self.to) if self.sms_text else self.to


def reset_destination(recipient: Any, settings: Any) -> PinDestination:
    """Return who gets the new PIN of `recipient` (NoDestination when nobody can)."""
    return pin_destination(
        ADMIN_RESET,
        settings=settings,
        recipient=str(recipient.address),
        adviser=recipient.created_by,
        phone=recipient.phone,
        sms=bool(runtime().config.sms.gateway),
    )


def build_pin_mail(
    *,
    recipient: Any,
    pin: str,
    settings: Any,
    portal_url: str,
    internal_domains: Sequence[str],
    now: datetime,
) -> PinMail:
    """Render the PIN mail for `recipient` in the right language, to the right person.

    The mail comes from the product at the adviser's domain (or the first internal domain),
    never from the recipient's own domain, with a null envelope sender like every notice.
    """
    to = reset_destination(recipient, settings)
    if to.by_sms:
        text = pin_sms_text(
            pin,
            product_name=settings.product_name,
            portal_url=portal_url,
            lang=recipient.language or settings.default_language,
        )
        return PinMail(data=b"", mail_from="", to=to.address, delivery=to.role, sms_text=text)
    mail = pin_reset_mail(
        to=to.address,
        to_recipient=to.to_recipient,
        recipient=str(recipient.address),
        sent_for=sending_address(recipient.created_by, internal_domains),
        pin=pin,
        portal_url=portal_url,
        settings=settings,
        lang=recipient.language if to.to_recipient else None,
        now=now,
    )
    customer_notice = None
    if not to.to_recipient:
        customer_notice = access_reset_mail(
            recipient=str(recipient.address),
            sent_for=sending_address(recipient.created_by, internal_domains),
            pin_from=to.address,
            pin_role=to.role,
            portal_url=portal_url,
            settings=settings,
            lang=recipient.language,
            now=now,
        ).build()
    return PinMail(
        data=mail.build(),
        mail_from=mail.mail_from,
        to=to.address,
        delivery=to.role,
        customer_notice=customer_notice,
        customer=str(recipient.address),
    )
