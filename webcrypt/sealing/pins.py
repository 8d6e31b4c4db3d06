"""Where a one-time PIN goes: the one place that decides it, for every situation.

A PIN is mailed in two situations: at first contact, when the filter creates an account for
a new recipient (`FIRST_CONTACT`, the ``first_contact_pin`` setting), and after an admin
reset the account's password (`ADMIN_RESET`, the ``reset_pin`` setting). Each setting names
a channel: the adviser who sent the first message and passes the PIN on by phone (the
first-contact default, as the inbox and attachment documents require), the customer by
mail (the reset default; at first contact the mailbox alone would then open the message),
or a fixed helpdesk address (``pin_helpdesk``) whose staff phone the customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from keystore.settings import Settings

FIRST_CONTACT = "first-contact"
ADMIN_RESET = "admin-reset"
SITUATIONS = (FIRST_CONTACT, ADMIN_RESET)

ADVISER = "adviser"
RECIPIENT = "recipient"
HELPDESK = "helpdesk"
SMS = "sms"
CHANNELS = (ADVISER, RECIPIENT, HELPDESK, SMS)

SETTING = {FIRST_CONTACT: "first_contact_pin", ADMIN_RESET: "reset_pin"}
"""The admin setting that names the channel of each situation."""

CHANNEL_NAMES = {
    ADVISER: "the sending adviser, who passes it on by phone",
    RECIPIENT: "the customer, by mail",
    HELPDESK: "the helpdesk address, whose staff pass it on by phone",
    SMS: "an SMS to the customer's mobile number (the adviser's notice when none is known)",
}


class NoDestination(Exception):
    """There is nobody to send the PIN to (no adviser on record)."""


@dataclass(frozen=True)
class PinDestination:
    """Who gets a PIN: the address (a phone number for an SMS) and the channel (`CHANNELS`)."""

    address: str
    role: str

    @property
    def by_sms(self) -> bool:
        """Tell whether the PIN goes by SMS to the number in `address`."""
        return self.role == SMS

    @property
    def to_recipient(self) -> bool:
        """Tell whether the PIN goes straight to the recipient."""
        return self.role == RECIPIENT


def pin_channel(situation: str, settings: Settings) -> str:
    """Return the channel the settings choose for `situation` (one of `CHANNELS`)."""
    if situation not in SITUATIONS:
        raise ValueError(f"unknown situation {situation!r}; use one of {', '.join(SITUATIONS)}")
    chosen = str(getattr(settings, SETTING[situation]))
    if chosen == HELPDESK and not settings.pin_helpdesk:
        return ADVISER  # the settings refuse this; a stored value from before still works
    return chosen if chosen in CHANNELS else ADVISER


def pin_destination(
    situation: str,
    *,
    settings: Settings,
    recipient: str,
    adviser: str | None,
    phone: str | None = None,
    sms: bool = False,
) -> PinDestination:
    """Return where the PIN of `recipient`'s account goes in `situation` (`SITUATIONS`).

    `adviser` is the sender at first contact, else the adviser who created the account (None
    or "" when none is on record); `phone` the customer's mobile number when known, `sms`
    whether an SMS gateway is configured. Raises NoDestination when the PIN should go to
    the adviser but there is none.
    """
    chosen = pin_channel(situation, settings)
    if chosen == SMS and sms and phone:
        return PinDestination(phone, SMS)
    if chosen == RECIPIENT:
        return PinDestination(recipient, RECIPIENT)
    if chosen == HELPDESK:
        return PinDestination(settings.pin_helpdesk, HELPDESK)
    found = str(adviser or "").strip()
    if "@" not in found:
        raise NoDestination(
            "No adviser is on record for this account, so the new PIN cannot be sent to one. "
            "Set 'PIN after an admin reset' to the customer or the helpdesk in the settings, "
            "or ask the adviser to send a new secure message after deleting the account."
        )
    return PinDestination(found, ADVISER)


def describe_pin_channel(situation: str, settings: Settings, *, sms: bool = False) -> str:
    """Say in one sentence who gets the PIN in `situation` under `settings` (admin pages).

    `sms` tells whether an SMS gateway is configured.
    """
    chosen = pin_channel(situation, settings)
    if chosen == SMS and not sms:
        return (
            f"In force: {CHANNEL_NAMES[ADVISER]}, as no SMS gateway is configured "
            "([sms] gateway in the configuration file)."
        )
    text = f"In force: {CHANNEL_NAMES[chosen]}"
    if chosen == HELPDESK:
        text += f" ({settings.pin_helpdesk})"
    text += "."
    if situation == FIRST_CONTACT and chosen == RECIPIENT:
        text += (
            " Warning: the PIN then travels in the same mailbox as the message, so whoever "
            "reads that mailbox can open it; the inbox document forbids this for first contact."
        )
    return text
