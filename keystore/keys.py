"""Versioned recipient keys, wrapped under the master key with account id and version as AAD.

Destroying a version deletes the mailbox messages sealed under it: key and ciphertext go
together (crypto-shredding).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.clock import Clock
from keystore.errors import NotFound
from keystore.mailbox import MailboxService
from keystore.masterkey import MasterKey, key_aad
from keystore.models import Recipient, RecipientKey

KEY_SIZE = 32


@dataclass(frozen=True)
class KeyMaterial:
    """An unwrapped recipient key (keep it in memory only as long as needed)."""

    recipient_id: int
    key_id: str
    version: int
    key: bytes

    def __repr__(self) -> str:
        return (
            f"KeyMaterial(recipient_id={self.recipient_id!r}, key_id={self.key_id!r}, "
            f"version={self.version!r})"
        )


class KeyVersions:
    """Key operations of the recipient service (needs session, clock, master_key, rng)."""

    session: Session
    clock: Clock
    master_key: MasterKey
    rng: Callable[[int], bytes] = staticmethod(os.urandom)

    def _add_key_version(self, recipient: Recipient, version: int) -> RecipientKey:
        key = self.rng(KEY_SIZE)
        row = RecipientKey(
            recipient_id=recipient.id,
            version=version,
            wrapped_key=self.master_key.wrap(key, key_aad(recipient.id, version)),
            master_key_id=self.master_key.key_id,
            created_at=self.clock(),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def _newest_live_key(self, recipient_id: int) -> RecipientKey | None:
        return self.session.scalar(
            select(RecipientKey)
            .where(
                RecipientKey.recipient_id == recipient_id,
                RecipientKey.wrapped_key.is_not(None),
            )
            .order_by(RecipientKey.version.desc())
            .limit(1)
        )

    def _key_row(self, recipient_id: int, version: int) -> RecipientKey | None:
        return self.session.scalar(
            select(RecipientKey).where(
                RecipientKey.recipient_id == recipient_id, RecipientKey.version == version
            )
        )

    def _unwrap(self, row: RecipientKey) -> bytes:
        assert row.wrapped_key is not None
        return self.master_key.unwrap(row.wrapped_key, key_aad(row.recipient_id, row.version))

    def current_key(self, recipient: Recipient) -> KeyMaterial:
        """Return the newest live key version (used to seal new messages)."""
        row = self._newest_live_key(recipient.id)
        if row is None:
            raise NotFound(f"recipient {recipient.id} has no live key")
        return KeyMaterial(recipient.id, recipient.key_id, row.version, self._unwrap(row))

    def key(self, recipient_id: int, version: int) -> bytes | None:
        """Return one key version, or None when it was destroyed or never existed."""
        row = self._key_row(recipient_id, version)
        if row is None or row.wrapped_key is None:
            return None
        return self._unwrap(row)

    def key_versions(self, recipient: Recipient) -> list[RecipientKey]:
        """Return every key version row of a recipient (destroyed ones included), oldest first."""
        return list(
            self.session.scalars(
                select(RecipientKey)
                .where(RecipientKey.recipient_id == recipient.id)
                .order_by(RecipientKey.version)
            )
        )

    def rotate_key(self, recipient: Recipient) -> int:
        """Add a new key version for new messages; returns its number."""
        newest = self.session.scalar(
            select(func.max(RecipientKey.version)).where(RecipientKey.recipient_id == recipient.id)
        )
        version = int(newest or 0) + 1
        self._add_key_version(recipient, version)
        return version

    def rotate_key_if_older(self, recipient_id: int, created_before: datetime) -> bool:
        """Add a key version when the account's newest is older than `created_before`.

        Checked in the caller's transaction, so a run that read a stale list does not rotate
        an account again; False too when the account is gone or another run added the same
        version a moment ago.
        """
        newest = self.session.scalar(
            select(RecipientKey.created_at)
            .where(RecipientKey.recipient_id == recipient_id)
            .order_by(RecipientKey.version.desc())
            .limit(1)
        )
        if newest is None or newest >= created_before:
            return False
        recipient = self.session.get(Recipient, recipient_id)
        if recipient is None:
            return False
        try:
            with self.session.begin_nested():
                self.rotate_key(recipient)
        except IntegrityError:
            return False
        return True

    def destroy_key_version(self, recipient_id: int, version: int) -> None:
        """Destroy one key version: messages sealed with it become unreadable for everyone."""
        row = self._key_row(recipient_id, version)
        if row is None:
            raise NotFound(f"recipient {recipient_id} has no key version {version}")
        self._destroy(row)
        self.session.flush()

    def _destroy(self, row: RecipientKey) -> None:
        """Destroy a key version and delete the mailbox messages sealed under it."""
        if row.wrapped_key is not None:
            row.wrapped_key = None
            row.destroyed_at = self.clock()
        MailboxService(self.session, clock=self.clock).delete_key_version(
            row.recipient_id, row.version
        )

    def rotate_all_keys(self) -> int:
        """Add a new key version for every account; returns how many were rotated."""
        count = 0
        for recipient in self.session.scalars(select(Recipient).order_by(Recipient.id)).all():
            self.rotate_key(recipient)
            count += 1
        return count
