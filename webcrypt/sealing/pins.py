"""Where a one-time PIN goes: the one place that decides it, for every situation.

A PIN is mailed in two situations: at first contact, when the filter creates an account for
a new recipient (`FIRST_CONTACT`), and after an admin reset the account's password
(`ADMIN_RESET`). At first contact it goes to the adviser who sent the message, who passes
it on by phone; after an admin reset it follows the ``pin_delivery`` setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from keystore.settings import Settings

FIRST_CONTACT = "first-contact"
ADMIN_RESET = "admin-reset"
SITUATIONS = (FIRST_CONTACT, ADMIN_RESET)

ADVISER = "adviser"
RECIPIENT = "recipient"


class NoDestination(Exception):
    """There is nobody to send the PIN to (no adviser on record)."""


@dataclass(frozen=True)
class PinDestination:
    """Who gets a PIN: the address, and whether that is the adviser or the recipient."""

    address: str
    role: str

    @property
    def to_recipient(self) -> bool:
        """Tell whether the PIN goes straight to the recipient."""
        return self.role == RECIPIENT


def pin_destination(
    situation: str, *, settings: Settings, recipient: str, adviser: str | None
) -> PinDestination:
    """Return where the PIN of `recipient`'s account goes in `situation` (`SITUATIONS`).

    `adviser` is the sender at first contact, else the adviser who created the account (None
    or "" when none is on record). Raises NoDestination when the PIN should go to the
    adviser but there is none.
    """
    if situation not in SITUATIONS:
        raise ValueError(f"unknown situation {situation!r}; use one of {', '.join(SITUATIONS)}")
    if situation == ADMIN_RESET and settings.pin_delivery == RECIPIENT:
        return PinDestination(recipient, RECIPIENT)
    found = str(adviser or "").strip()
    if "@" not in found:
        raise NoDestination(
            "No adviser is on record for this account, so the new PIN cannot be sent to one. "
            "Set PIN delivery to 'recipient' in the settings, or ask the adviser to send a "
            "new secure message after deleting the account."
        )
    return PinDestination(found, ADVISER)
