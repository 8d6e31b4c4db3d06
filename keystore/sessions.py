"""Per-account session generations: the server-side end of every session of an account.

The portal writes an account's generation into the session cookie at login and refuses a
cookie whose generation is no longer the account's. Raising the generation in the
database therefore ends every session of that account on every instance at once, however
many copies of the cookie exist.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class HasSessions(Protocol):
    """An account whose sessions carry its generation."""

    session_generation: int


def end_sessions(session: Session, account: HasSessions) -> int:
    """Raise the account's session generation (in SQL, so racing changes all count).

    Returns the new generation, which a session started afterwards must carry.
    """
    column = type(account).session_generation
    account.session_generation = column + 1
    session.flush()
    session.refresh(account, ["session_generation"])
    return int(account.session_generation)


def generation(account: HasSessions) -> int:
    """Return the generation a session of `account` must carry to be valid."""
    return int(account.session_generation or 0)
