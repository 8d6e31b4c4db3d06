"""Shared helpers for the envelope tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tests.support.images import png
from webcrypt.envelope import RecipientKey, SealedMessage, seal

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)


def recipient(name: str, version: int = 1) -> RecipientKey:
    """Return a recipient with a key derived from its name and version."""
    key = hashlib.sha256(f"{name}/{version}".encode()).digest()
    return RecipientKey(f"{name}@mail.example", f"id-{name}", version, key)


def seal_for(
    message: bytes, recipients: Sequence[RecipientKey], **options: object
) -> SealedMessage:
    """Seal with fixed test defaults that keyword options may override."""
    arguments: dict[str, object] = {
        "sender": "adviser@bank.example",
        "message_id": "<test@bank.example>",
        "portal_url": "https://secure.bank.example",
        "expires": EXPIRES,
        "now": NOW,
    }
    arguments.update(options)
    return seal(message, recipients, **arguments)  # type: ignore[arg-type]


def tiny_png(width: int = 40, height: int = 10) -> bytes:
    """Return a valid PNG image (greyscale stripes) for logo tests."""
    return png(width, height, bytes((x * 6) % 256 for x in range(width)))
