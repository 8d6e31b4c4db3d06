"""Putting messages into a customer's secure mailbox as delivery does: sealed envelope and
sealed summary, stored through the keystore's mailbox API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.portal.helpers import seal
from tests.support.runtime import Sealed, store_sealed


@dataclass(frozen=True)
class Stored:
    """A message in the mailbox: how it was sealed and its entry id."""

    sealed: Sealed
    entry_id: str
    raw: bytes


def store_message(
    runtime: Any, raw: bytes, *, summary: bytes | None = None, **sealing: Any
) -> Stored:
    """Seal `raw` as `seal` does (`sealing`: to, sender, days) and place it in the mailbox of
    the account it is sealed for."""
    sealed = seal(runtime, raw, **sealing)
    return Stored(sealed, store_sealed(runtime, raw, sealed, summary=summary), raw)


def entry_state(runtime: Any, stored: Stored) -> Any:
    """Return the stored entry as the keystore has it now (None when deleted)."""
    with runtime.keystore.session() as session:
        return runtime.keystore.mailbox(session).entry(stored.sealed.recipient_id, stored.entry_id)
