"""Sealed messages parked for a few minutes while their reader takes a detour.

A customer who opened secure.htm and then resets a forgotten password or switches the
language would otherwise have to find and upload the file again. The envelope (ciphertext:
nothing in it is readable without the customer's key) is kept under the SHA-256 of a random
token that only the customer's browser session holds, for `PARK_MINUTES`, and deleted when
it is taken back or has expired.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keystore.clock import Clock, utcnow
from keystore.models import ParkedEnvelope

PARK_MINUTES = 15


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ParkingService:
    """Park and take back envelopes in one database session."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def park(self, envelope: str, *, minutes: int = PARK_MINUTES) -> str:
        """Keep `envelope` for `minutes`; return the token that takes it back (once)."""
        now = self.clock()
        self.session.execute(delete(ParkedEnvelope).where(ParkedEnvelope.expires_at <= now))
        token = secrets.token_urlsafe(32)
        self.session.add(
            ParkedEnvelope(
                token_hash=_digest(token),
                envelope=envelope,
                expires_at=now + timedelta(minutes=minutes),
            )
        )
        self.session.flush()
        return token

    def take(self, token: str) -> str | None:
        """Return the envelope parked under `token` and delete it; None when gone or expired."""
        row = self.session.scalar(
            select(ParkedEnvelope).where(ParkedEnvelope.token_hash == _digest(token))
        )
        if row is None:
            return None
        envelope, expires = row.envelope, row.expires_at
        self.session.delete(row)
        self.session.flush()
        return envelope if expires > self.clock() else None
