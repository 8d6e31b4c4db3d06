"""Recipient accounts in keystore tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from keystore.db import Keystore
from keystore.models import Recipient
from keystore.recipients import RecipientService


@contextmanager
def account_of(
    keystore: Keystore, recipient: int | str
) -> Iterator[tuple[RecipientService, Recipient]]:
    """In a new session, yield the recipient service and the account `recipient` (its id or
    its address; it must exist); the session commits when the block ends."""
    with keystore.session() as session:
        service = keystore.recipients(session)
        found = (
            service.get_by_id(recipient) if isinstance(recipient, int) else service.get(recipient)
        )
        assert found is not None, f"no account {recipient}"
        yield service, found
