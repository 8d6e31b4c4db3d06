"""Keep the message a customer was opening while they reset the password or the language.

The envelope (ciphertext) is parked in the keystore for a few minutes under a token that
only this browser's session holds (see `keystore.parked`); `resume` takes it back once.
"""

from __future__ import annotations

from flask import session

from portal.context import services

PARKED_KEY = "parked"


def park(envelope: str) -> None:
    """Park `envelope` for this browser session (replacing one parked before)."""
    with services() as found:
        token = found.parked.park(envelope)
    session[PARKED_KEY] = token


def has_parked() -> bool:
    """Tell whether this browser session has parked a message."""
    return isinstance(session.get(PARKED_KEY), str)


def take_parked() -> str:
    """Return the envelope this session parked and forget it; "" when none or expired."""
    token = session.pop(PARKED_KEY, None)
    if not isinstance(token, str):
        return ""
    with services() as found:
        return found.parked.take(token) or ""
