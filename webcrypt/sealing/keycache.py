"""A per-process, short-lived cache of what sealing needs to know about active accounts.

Looking an account up costs several database round trips per message; unwrapping its key
under the master key costs microseconds. The filter therefore remembers, for a few seconds,
each active account whose first PIN is settled: its id, current key version (unwrapped)
and language. (The security phrase is not needed: it is shown by the portal only.)

What the cache may and may not make stale:

* Key use is never stale. A message sealed from the cache is recorded in the ledger with a
  guarded insert that succeeds only while the account is active and the cached version is
  its newest live one (`keystore.ledger.record_sealed_if_current`); otherwise the entry is
  dropped and the message is sealed the slow way. So a deactivated, deleted or rotated
  account, or a destroyed key version, is picked up by the next message.
* The language and the chosen delivery method are at most `ACCOUNT_TTL` seconds old: a change in the
  portal shows in carriers within a minute, the same promise as for admin settings.
* Accounts are created, and first PINs issued, only on the slow path, under the
  database's unique index and the PIN lease: caching never affects first contact.

Unwrapped keys stay in memory for up to `ACCOUNT_TTL` seconds instead of one message. The
master key that unwraps them lives in the same process for its whole life, so this exposes
nothing a memory disclosure would not already give away.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webcrypt.envelope import RecipientKey

if TYPE_CHECKING:
    from keystore.models import Recipient

ACCOUNT_TTL = 30.0
"""Seconds an entry is trusted for the language (changes show within a minute)."""

MAX_ACCOUNTS = 10_000
"""Entries kept at most; the least recently stored go first."""


@dataclass(frozen=True)
class Account:
    """What sealing needs of one account: id, status, current key, display preferences."""

    recipient_id: int
    active: bool
    key: RecipientKey | None
    language: str | None
    delivery_method: str | None = None

    @classmethod
    def of(cls, recipient: Recipient, key: RecipientKey | None) -> Account:
        """What sealing keeps of an account row (the row itself stays with its session)."""
        return cls(
            recipient_id=recipient.id,
            active=recipient.status == "active" and key is not None,
            key=key,
            language=recipient.language,
            delivery_method=recipient.delivery_method,
        )

    def __repr__(self) -> str:  # never the key bytes
        version = self.key.key_version if self.key else None
        return f"Account(recipient_id={self.recipient_id!r}, key_version={version!r})"


class AccountCache:
    """Thread-safe map of normalized address -> `Account`, each entry valid for `ttl` seconds."""

    def __init__(
        self,
        ttl: float = ACCOUNT_TTL,
        *,
        max_entries: int = MAX_ACCOUNTS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[float, Account]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, address: str) -> Account | None:
        """Return the entry of a normalized address, or None when absent or expired."""
        with self._lock:
            found = self._entries.get(address)
            if found is None:
                return None
            stored_at, account = found
            if self._monotonic() - stored_at >= self.ttl:
                del self._entries[address]
                return None
            return account

    def put(self, address: str, account: Account) -> None:
        """Remember an active account (others are not cached)."""
        if not account.active or account.key is None or self.ttl <= 0:
            return
        with self._lock:
            self._entries.pop(address, None)
            self._entries[address] = (self._monotonic(), account)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, address: str) -> None:
        """Drop one entry (it turned out stale)."""
        with self._lock:
            self._entries.pop(address, None)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
