"""The message ledger: metadata of sealed messages (never subject or content)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.clock import Clock, as_utc, utcnow
from keystore.driver import DriverTransaction
from keystore.mailbox import MailboxService
from keystore.models import LedgerEntry, PortalMessage, Recipient, RecipientKey
from keystore.rows import add_once


def _guarded_insert() -> Any:
    """INSERT one ledger row, only while the account is active and the key version current.

    Current means live (not destroyed) and no newer live version exists: exactly the
    version `current_key` would hand out at this moment.
    """
    key = RecipientKey.__table__.alias("k")
    newer = RecipientKey.__table__.alias("n")
    ledger = LedgerEntry.__table__
    accounts = Recipient.__table__
    rows = (
        select(
            bindparam("message_id", type_=ledger.c.message_id.type),
            key.c.recipient_id,
            bindparam("sender", type_=ledger.c.sender.type),
            bindparam("created_at", type_=ledger.c.created_at.type),
            bindparam("expires_at", type_=ledger.c.expires_at.type),
            key.c.version,
        )
        .select_from(key.join(accounts, accounts.c.id == key.c.recipient_id))
        .where(
            key.c.recipient_id == bindparam("recipient_id"),
            key.c.version == bindparam("key_version"),
            key.c.wrapped_key.is_not(None),
            accounts.c.status == "active",
            ~exists().where(
                newer.c.recipient_id == key.c.recipient_id,
                newer.c.version > key.c.version,
                newer.c.wrapped_key.is_not(None),
            ),
        )
    )
    columns = ["message_id", "recipient_id", "sender", "created_at", "expires_at", "key_version"]
    # rowcount of an INSERT is kept only on request (SQLAlchemy 2).
    return insert(LedgerEntry).from_select(columns, rows).execution_options(preserve_rowcount=True)


_GUARDED_INSERT = _guarded_insert()


@dataclass(frozen=True)
class LedgerCounts:
    """Numbers for the dashboard since a point in time."""

    sealed: int
    opened: int
    revoked: int


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class Sealing(TypedDict):
    """What the ledger records of one message sealed for one recipient."""

    message_id: str
    recipient_id: int
    sender: str
    created: datetime
    expires: datetime
    key_version: int


def _row(sealing: Sealing) -> dict[str, str | int | datetime]:
    """The ledger row's values (column names) of `sealing`, its times in UTC."""
    return {
        "message_id": sealing["message_id"],
        "recipient_id": sealing["recipient_id"],
        "sender": sealing["sender"],
        "created_at": as_utc(sealing["created"]),
        "expires_at": as_utc(sealing["expires"]),
        "key_version": sealing["key_version"],
    }


def record_sealed_if_current(transaction: DriverTransaction, **sealing: Unpack[Sealing]) -> bool:
    """Record a new ledger entry in one statement, only if the key version may still be used.

    False, with nothing recorded, when the account is no longer active, was deleted, or the
    version was destroyed or superseded by a newer one: the caller's idea of the account is
    stale. A second entry for the same message and recipient fails the transaction
    (`DuplicateRecord` from the Keystore; `LedgerService.record_sealed` updates one). Runs
    in a `Keystore.driver_transaction`, on the filter's hot path.
    """
    return _rowcount(transaction.execute(_GUARDED_INSERT, _row(sealing))) == 1


class LedgerService:
    """Records sealed messages and what happened to them."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def record_sealed(self, **sealing: Unpack[Sealing]) -> LedgerEntry:
        """Record that a message was sealed for a recipient; sealing it again updates the row."""
        row = _row(sealing)
        existing = self.get(sealing["message_id"], sealing["recipient_id"])
        if existing is None:
            entry = LedgerEntry(**row)
            try:
                with self.session.begin_nested():
                    self.session.add(entry)
                return entry
            except IntegrityError:
                existing = self.get(sealing["message_id"], sealing["recipient_id"])
                if existing is None:
                    raise
        for column in ("sender", "created_at", "expires_at", "key_version"):
            setattr(existing, column, row[column])
        self.session.flush()
        return existing

    def record_portal_message(self, message_id: str, recipient_id: int) -> None:
        """Record the Message-ID of a mail the recipient sent from the portal (once)."""
        message_id = message_id.strip().strip("<>")
        if not message_id or len(message_id) > 255:
            return
        if self.session.get(PortalMessage, message_id) is not None:
            return
        row = PortalMessage(message_id=message_id, recipient_id=recipient_id, sent_at=self.clock())
        add_once(self.session, row)  # False: another request recorded it at the same moment

    def portal_senders(self, message_ids: Sequence[str]) -> set[str]:
        """Return the addresses of the recipients who sent any of `message_ids` from the portal."""
        wanted = list({m.strip().strip("<>") for m in message_ids if m.strip()})[:100]
        if not wanted:
            return set()
        rows = self.session.scalars(
            select(Recipient.address)
            .join(PortalMessage, PortalMessage.recipient_id == Recipient.id)
            .where(PortalMessage.message_id.in_(wanted), Recipient.status == "active")
        )
        return {str(address) for address in rows}

    def get(self, message_id: str, recipient_id: int) -> LedgerEntry | None:
        """Return the entry of one message for one recipient."""
        return self.session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.message_id == message_id, LedgerEntry.recipient_id == recipient_id
            )
        )

    def find(self, message_id: str) -> list[LedgerEntry]:
        """Return the entries of a message, one per recipient."""
        return list(
            self.session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.message_id == message_id)
                .order_by(LedgerEntry.recipient_id)
            )
        )

    def for_recipient(self, recipient_id: int, *, limit: int = 100) -> list[LedgerEntry]:
        """Return a recipient's entries, newest first."""
        return list(
            self.session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.recipient_id == recipient_id)
                .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
                .limit(limit)
            )
        )

    def mark_opened(self, message_id: str, recipient_id: int) -> bool:
        """Record the first opening; True only for the call that actually recorded it."""
        result = self.session.execute(
            update(LedgerEntry)
            .where(
                LedgerEntry.message_id == message_id,
                LedgerEntry.recipient_id == recipient_id,
                LedgerEntry.first_opened_at.is_(None),
            )
            .values(first_opened_at=self.clock())
            .execution_options(synchronize_session="fetch")
        )
        return _rowcount(result) == 1

    def revoke(self, message_id: str, *, by: str) -> int:
        """Revoke a message for all its recipients; returns the number of rows revoked.

        The copies in the recipients' secure mailboxes are deleted at once.
        """
        MailboxService(self.session, clock=self.clock).delete_message(message_id)
        result = self.session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.message_id == message_id, LedgerEntry.revoked_at.is_(None))
            .values(revoked_at=self.clock(), revoked_by=by)
            .execution_options(synchronize_session="fetch")
        )
        return _rowcount(result)

    def count_since(self, since: datetime) -> LedgerCounts:
        """Count messages sealed, first opened and revoked since `since`."""
        start = as_utc(since)

        def count(column: Any) -> int:
            query = select(func.count()).select_from(LedgerEntry).where(column >= start)
            return int(self.session.scalar(query) or 0)

        return LedgerCounts(
            sealed=count(LedgerEntry.created_at),
            opened=count(LedgerEntry.first_opened_at),
            revoked=count(LedgerEntry.revoked_at),
        )
