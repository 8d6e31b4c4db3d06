"""Who is logged in: the recipient's part of the signed session cookie.

The recipient's state lives under its own key of the session, so another area of the
portal (the admin area) can keep a separate login in the same cookie without either
one ending the other. The state carries the account's session generation from the
keystore: logout, a new password, a reset or deactivation raise it there, which ends
every copy of the cookie on every instance (see `keystore.sessions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, session

from keystore.sessions import generation
from portal.context import Services, now, settings

NAMESPACE = "recipient"
FULL = "full"
SETUP = "setup"


@dataclass(frozen=True)
class Visitor:
    """A logged-in recipient, as far as the session tells."""

    recipient_id: int
    address: str
    stage: str


def log_in(recipient: Any, *, stage: str = FULL) -> None:
    """Start a new session for `recipient` (a fresh session and a fresh CSRF token)."""
    session.pop(NAMESPACE, None)
    # A new CSRF token too: drop it from the session and from this request's cache.
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)
    stamp = int(now().timestamp())
    session[NAMESPACE] = {
        "id": int(recipient.id),
        "addr": str(recipient.address),
        "since": stamp,
        "seen": stamp,
        "gen": generation(recipient),
        "stage": stage,
    }
    if recipient.language in ("en", "de"):
        session["lang"] = recipient.language
    session.permanent = True


def log_out() -> None:
    """End the recipient's session (the admin part of the cookie stays)."""
    session.pop(NAMESPACE, None)


def visitor() -> Visitor | None:
    """Return who the session says is logged in, ending it when it is too old or idle."""
    state = session.get(NAMESPACE)
    if not isinstance(state, dict):
        return None
    current = int(now().timestamp())
    limits = settings()
    idle = int(limits.session_idle_minutes) * 60
    lifetime = int(limits.session_max_hours) * 3600
    if (
        current - int(state.get("seen", 0)) > idle
        or current - int(state.get("since", 0)) > lifetime
    ):
        log_out()
        session["ended"] = True
        return None
    if current - int(state["seen"]) >= 30:
        state["seen"] = current
        session.modified = True
    return Visitor(int(state["id"]), str(state["addr"]), str(state.get("stage", FULL)))


def current_recipient(services: Services, *, stage: str = FULL) -> Any | None:
    """Return the logged-in recipient's account when the session is valid for `stage`."""
    who = visitor()
    if who is None or who.stage != stage:
        return None
    recipient = services.recipients.get_by_id(who.recipient_id)
    state = session.get(NAMESPACE, {})
    if (
        recipient is None
        or recipient.status != "active"
        or recipient.address != who.address
        or state.get("gen") != generation(recipient)
    ):
        log_out()
        return None
    return recipient


def session_ended() -> bool:
    """Tell (once) whether the last session ended by timeout, for a note on the login page."""
    return bool(session.pop("ended", False))
