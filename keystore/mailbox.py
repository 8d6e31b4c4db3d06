"""The secure mailbox: sealed envelopes kept for their recipient, ciphertext only.

Each stored message is the same armored envelope the attachment carries, written in
chunks of `CHUNK_SIZE` bytes (one row each), so that no statement carries a whole message
and MariaDB's default `max_allowed_packet` is enough. What the inbox list shows (date,
sender, subject, size) is a small envelope of its own, sealed under the same recipient
key (`webcrypt.sealing.summary`); the database holds no readable content.

A message is stored once per (account, Message-ID): storing it again (a retried delivery)
replaces the envelope and keeps the entry id, so a link already mailed still works.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from keystore.chunks import in_chunks
from keystore.clock import Clock, as_utc, utcnow
from keystore.errors import KeystoreError, NotFound
from keystore.models import LedgerEntry, MailboxChunk, MailboxMessage, Recipient
from keystore.settings import SettingsService

CHUNK_SIZE = 256 * 1024
"""Bytes of a stored envelope per row."""
MAX_SUMMARY = 16 * 1024
"""The largest sealed summary the mailbox takes."""
PAGE_SIZE = 50
"""Messages per page of the inbox unless told otherwise."""
METHODS = ("attachment", "mailbox", "both")
"""How a sealed message reaches its recipient (see `webcrypt.sealing.delivery`)."""


class MailboxFull(KeystoreError):
    """Storing the message would take the mailbox over its quota; nothing was written."""

    def __init__(self, used: int, limit: int, size: int) -> None:
        super().__init__(
            f"the secure mailbox is full: {used} of {limit} bytes used, "
            f"the message needs {size} more"
        )
        self.used = used
        self.limit = limit
        self.size = size


@dataclass(frozen=True)
class MailboxEntry:
    """One stored message as the inbox sees it; `summary` is ciphertext."""

    id: str
    account_id: int
    message_id: str
    key_version: int
    stored_at: datetime
    expires_at: datetime
    size: int
    read_at: datetime | None
    summary: bytes

    def __repr__(self) -> str:
        return f"MailboxEntry(id={self.id!r}, account_id={self.account_id!r})"


@dataclass(frozen=True)
class MailboxTotals:
    """The mailbox figures of the whole deployment (dashboard and metrics)."""

    accounts: int
    messages: int
    bytes: int
    unread: int


def new_entry_id() -> str:
    """Return a fresh opaque, URL-safe id for a stored message (unguessable)."""
    return secrets.token_urlsafe(24)


def _entry(row: MailboxMessage) -> MailboxEntry:
    return MailboxEntry(
        id=row.id,
        account_id=row.recipient_id,
        message_id=row.message_id,
        key_version=row.key_version,
        stored_at=row.stored_at,
        expires_at=row.expires_at,
        size=row.size,
        read_at=row.read_at,
        summary=bytes(row.summary),
    )


def _pieces(data: bytes) -> Iterator[bytes]:
    with memoryview(data) as view:
        for start in range(0, max(len(view), 1), CHUNK_SIZE):
            yield bytes(view[start : start + CHUNK_SIZE])


class MailboxService:
    """Stores, lists, reads and deletes the messages of secure mailboxes."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    # -- writing ----------------------------------------------------------------------------

    def store(
        self,
        account_id: int,
        entry_id: str,
        *,
        message_id: str,
        key_version: int,
        envelope: bytes,
        summary: bytes,
        expires_at: datetime,
        quota: int | None = None,
    ) -> MailboxEntry:
        """Store a sealed envelope for `account_id`; return the entry (its id may be older).

        `quota` is the mailbox's limit in bytes (None: the `mailbox_quota` setting). Raises
        `MailboxFull` before anything is written when the envelope does not fit, `NotFound`
        when the account does not exist. The account row is locked while checking, so two
        deliveries at once cannot both take the last free space.
        """
        if not envelope:
            raise ValueError("the envelope is empty")
        if len(summary) > MAX_SUMMARY:
            raise ValueError(f"the sealed summary is larger than {MAX_SUMMARY} bytes")
        if not entry_id or len(entry_id) > 43:
            raise ValueError("the entry id must be 1 to 43 characters")
        locked = self.session.scalar(
            select(Recipient.id).where(Recipient.id == account_id).with_for_update()
        )
        if locked is None:
            raise NotFound(f"account {account_id} does not exist")
        limit = quota if quota is not None else SettingsService(self.session).get().mailbox_quota
        # One read for the quota and a copy stored before (a retried delivery).
        used, previous = 0, None
        for row_id, row_message_id, row_size in self.session.execute(
            select(MailboxMessage.id, MailboxMessage.message_id, MailboxMessage.size).where(
                MailboxMessage.recipient_id == account_id
            )
        ):
            if row_message_id == message_id:
                previous = str(row_id)
            else:
                used += int(row_size)
        if used + len(envelope) > limit:
            raise MailboxFull(used, limit, len(envelope))
        if previous is not None:
            entry_id = previous
            self._delete_rows([entry_id])
        pieces = list(_pieces(envelope))
        entry = MailboxEntry(
            id=entry_id,
            account_id=account_id,
            message_id=message_id,
            key_version=key_version,
            stored_at=self.clock(),
            expires_at=as_utc(expires_at),
            size=len(envelope),
            read_at=None,
            summary=bytes(summary),
        )
        # Core statements, one per row: a list of rows could be sent as one multi-row INSERT.
        self.session.execute(
            insert(MailboxMessage).values(
                id=entry.id,
                recipient_id=account_id,
                message_id=message_id,
                key_version=key_version,
                stored_at=entry.stored_at,
                expires_at=entry.expires_at,
                size=entry.size,
                chunks=len(pieces),
                read_at=None,
                summary=entry.summary,
            )
        )
        for seq, piece in enumerate(pieces):
            self.session.execute(
                insert(MailboxChunk).values(entry_id=entry_id, seq=seq, data=piece)
            )
        return entry

    def mark_read(self, account_id: int, entry_id: str, when: datetime | None = None) -> bool:
        """Record the first reading; True only for the call that recorded it.

        The message's ledger entry records its first opening too (if nothing did before),
        so unread notices, read receipts and "unread" expiry notices treat it as read.
        """
        moment = as_utc(when) if when is not None else self.clock()
        row = self._row(account_id, entry_id)
        if row is None:
            return False
        result = self.session.execute(
            update(MailboxMessage)
            .where(
                MailboxMessage.id == entry_id,
                MailboxMessage.recipient_id == account_id,
                MailboxMessage.read_at.is_(None),
            )
            .values(read_at=moment)
            .execution_options(synchronize_session="fetch")
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return False
        self.session.execute(
            update(LedgerEntry)
            .where(
                LedgerEntry.message_id == row.message_id,
                LedgerEntry.recipient_id == account_id,
                LedgerEntry.first_opened_at.is_(None),
            )
            .values(first_opened_at=moment)
            .execution_options(synchronize_session=False)
        )
        return True

    # -- reading ----------------------------------------------------------------------------

    def page(self, account_id: int, offset: int = 0, limit: int = PAGE_SIZE) -> list[MailboxEntry]:
        """Return one page of the account's messages, newest first."""
        rows = self.session.scalars(
            select(MailboxMessage)
            .where(MailboxMessage.recipient_id == account_id)
            .order_by(MailboxMessage.stored_at.desc(), MailboxMessage.id.desc())
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        )
        return [_entry(row) for row in rows]

    def count(self, account_id: int) -> int:
        """Return how many messages the account's mailbox holds."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(MailboxMessage)
                .where(MailboxMessage.recipient_id == account_id)
            )
            or 0
        )

    def unread(self, account_id: int) -> int:
        """Return how many of the account's messages were never opened."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(MailboxMessage)
                .where(MailboxMessage.recipient_id == account_id, MailboxMessage.read_at.is_(None))
            )
            or 0
        )

    def usage(self, account_id: int) -> int:
        """Return the bytes the account's stored envelopes take (counted against the quota)."""
        return int(
            self.session.scalar(
                select(func.coalesce(func.sum(MailboxMessage.size), 0)).where(
                    MailboxMessage.recipient_id == account_id
                )
            )
            or 0
        )

    def usage_by_account(self, account_ids: Sequence[int]) -> dict[int, int]:
        """Return the bytes used per account (accounts without messages are missing)."""
        found: dict[int, int] = {}
        for ids in in_chunks(list(account_ids)):
            query = (
                select(MailboxMessage.recipient_id, func.sum(MailboxMessage.size))
                .where(MailboxMessage.recipient_id.in_(ids))
                .group_by(MailboxMessage.recipient_id)
            )
            for account_id, used in self.session.execute(query):
                found[int(account_id)] = int(used or 0)
        return found

    def entry(self, account_id: int, entry_id: str) -> MailboxEntry | None:
        """Return one message of the account (None when missing or someone else's)."""
        row = self._row(account_id, entry_id)
        return _entry(row) if row is not None else None

    def _row(self, account_id: int, entry_id: str) -> MailboxMessage | None:
        return self.session.scalar(
            select(MailboxMessage).where(
                MailboxMessage.id == entry_id, MailboxMessage.recipient_id == account_id
            )
        )

    def envelope(self, account_id: int, entry_id: str) -> bytes | None:
        """Return the stored envelope of one message of the account (None when missing)."""
        pieces = self.chunks(account_id, entry_id)
        if pieces is None:
            return None
        return b"".join(pieces)

    def chunks(self, account_id: int, entry_id: str) -> Iterator[bytes] | None:
        """Return the stored envelope piece by piece, one row at a time (None when missing).

        Iterate while the session is open.
        """
        row = self._row(account_id, entry_id)
        if row is None:
            return None
        return self._read_chunks(row.id, row.chunks)

    def _read_chunks(self, entry_id: str, count: int) -> Iterator[bytes]:
        """The pieces in order, fetched by one statement; a missing piece raises `NotFound`."""
        rows = self.session.execute(
            select(MailboxChunk.seq, MailboxChunk.data)
            .where(MailboxChunk.entry_id == entry_id)
            .order_by(MailboxChunk.seq)
            .execution_options(stream_results=True, yield_per=8)
        )
        expected = 0
        for seq, data in rows:
            if seq != expected:
                break
            expected += 1
            yield bytes(data)
        if expected != count:
            raise NotFound(f"stored message {entry_id} lost its part {expected}")

    def stored_as(self, account_id: int, message_id: str) -> str | None:
        """Return the entry id under which the account's mailbox holds a message (or None)."""
        return self.session.scalar(
            select(MailboxMessage.id).where(
                MailboxMessage.recipient_id == account_id, MailboxMessage.message_id == message_id
            )
        )

    def for_message(self, message_id: str) -> list[MailboxEntry]:
        """Return the stored copies of one message, one per recipient."""
        rows = self.session.scalars(
            select(MailboxMessage)
            .where(MailboxMessage.message_id == message_id)
            .order_by(MailboxMessage.recipient_id)
        )
        return [_entry(row) for row in rows]

    def expired(self, now: datetime | None = None, *, limit: int = 500) -> list[MailboxEntry]:
        """Return messages whose expiry has passed (oldest expiry first)."""
        moment = as_utc(now) if now is not None else self.clock()
        rows = self.session.scalars(
            select(MailboxMessage)
            .where(MailboxMessage.expires_at <= moment)
            .order_by(MailboxMessage.expires_at, MailboxMessage.id)
            .limit(limit)
        )
        return [_entry(row) for row in rows]

    def totals(self) -> MailboxTotals:
        """Return the deployment's mailbox figures."""
        accounts, messages, size = self.session.execute(
            select(
                func.count(func.distinct(MailboxMessage.recipient_id)),
                func.count(),
                func.coalesce(func.sum(MailboxMessage.size), 0),
            ).select_from(MailboxMessage)
        ).one()
        unread = self.session.scalar(
            select(func.count()).select_from(MailboxMessage).where(MailboxMessage.read_at.is_(None))
        )
        return MailboxTotals(int(accounts), int(messages), int(size or 0), int(unread or 0))

    # -- deleting ---------------------------------------------------------------------------

    def _delete_rows(self, entry_ids: Iterable[str]) -> int:
        """Delete messages with their chunks; return how many this call deleted."""
        deleted = 0
        for ids in in_chunks(list(entry_ids)):
            self.session.execute(
                delete(MailboxChunk)
                .where(MailboxChunk.entry_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            result = self.session.execute(
                delete(MailboxMessage)
                .where(MailboxMessage.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            deleted += int(result.rowcount)  # type: ignore[attr-defined]
        return deleted

    def delete(self, account_id: int, entry_id: str) -> bool:
        """Delete one message of the account with its envelope; True if this call deleted it."""
        if self._row(account_id, entry_id) is None:
            return False
        return self._delete_rows([entry_id]) == 1

    def delete_expired(
        self, now: datetime | None = None, *, limit: int = 500
    ) -> list[MailboxEntry]:
        """Delete expired messages; return those this call deleted (each once, across instances)."""
        deleted = []
        for entry in self.expired(now, limit=limit):
            if self._delete_rows([entry.id]) == 1:
                deleted.append(entry)
        return deleted

    def delete_account(self, account_id: int) -> int:
        """Delete every message of an account; return how many."""
        ids = self.session.scalars(
            select(MailboxMessage.id).where(MailboxMessage.recipient_id == account_id)
        ).all()
        return self._delete_rows(ids)

    def delete_key_version(self, account_id: int, version: int) -> int:
        """Delete the messages sealed under one key version of an account; return how many."""
        ids = self.session.scalars(
            select(MailboxMessage.id).where(
                MailboxMessage.recipient_id == account_id, MailboxMessage.key_version == version
            )
        ).all()
        return self._delete_rows(ids)

    def delete_message(self, message_id: str, account_id: int | None = None) -> int:
        """Delete the stored copies of a message (of one account, or of all); return how many."""
        query = select(MailboxMessage.id).where(MailboxMessage.message_id == message_id)
        if account_id is not None:
            query = query.where(MailboxMessage.recipient_id == account_id)
        return self._delete_rows(self.session.scalars(query).all())

    # -- the account's choice ---------------------------------------------------------------

    def set_delivery_method(self, account_id: int, method: str | None) -> None:
        """Set how the account gets its messages ("attachment", "mailbox", "both").

        None lets the deployment's rules decide again.
        """
        if method is not None and method not in METHODS:
            raise ValueError(f"unknown delivery method {method!r}; use one of {', '.join(METHODS)}")
        result = self.session.execute(
            update(Recipient)
            .where(Recipient.id == account_id)
            .values(delivery_method=method)
            .execution_options(synchronize_session="fetch")
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            raise NotFound(f"account {account_id} does not exist")
