"""Queries and records for the periodic lifecycle jobs (housekeeping).

The queries select the messages, accounts and key versions that a job has to look at; the
notices already sent are in `keystore.noticelog`, the housekeeping lease in
`keystore.leases`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from keystore.addresses import normalize_address
from keystore.chunks import in_chunks
from keystore.clock import Clock, as_utc, utcnow
from keystore.models import AdviserOption, LedgerEntry, PortalMessage, Recipient, RecipientKey
from keystore.noticelog import NoticeService


@dataclass(frozen=True)
class KeyVersionRef:
    """One key version of one recipient."""

    recipient_id: int
    version: int


class LifecycleService:
    """The selections of the housekeeping jobs, with the notice log (`notices`) they consult."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.notices = NoticeService(session, clock=clock)

    # -- messages -------------------------------------------------------------------------

    def _live_messages(self, now: datetime) -> Select[LedgerEntry]:
        return select(LedgerEntry).where(
            LedgerEntry.revoked_at.is_(None), LedgerEntry.expires_at > as_utc(now)
        )

    def unopened_since(self, created_before: datetime, *, now: datetime) -> list[LedgerEntry]:
        """Return unexpired, unrevoked messages sealed before `created_before`, never opened."""
        query = self._live_messages(now).where(
            LedgerEntry.first_opened_at.is_(None),
            LedgerEntry.created_at <= as_utc(created_before),
        )
        return list(self.session.scalars(query.order_by(LedgerEntry.id)))

    def expiring_within(
        self, until: datetime, *, now: datetime, unread_only: bool = False
    ) -> list[LedgerEntry]:
        """Return unrevoked messages that expire after `now` but no later than `until`."""
        query = self._live_messages(now).where(LedgerEntry.expires_at <= as_utc(until))
        if unread_only:
            query = query.where(LedgerEntry.first_opened_at.is_(None))
        return list(self.session.scalars(query.order_by(LedgerEntry.id)))

    def opened_since(self, since: datetime) -> list[LedgerEntry]:
        """Return messages first opened at or after `since`."""
        query = select(LedgerEntry).where(LedgerEntry.first_opened_at >= as_utc(since))
        return list(self.session.scalars(query.order_by(LedgerEntry.id)))

    def sealed_since(self, since: datetime, *, now: datetime) -> list[LedgerEntry]:
        """Return unexpired, unrevoked messages sealed at or after `since`."""
        query = self._live_messages(now).where(LedgerEntry.created_at >= as_utc(since))
        return list(self.session.scalars(query.order_by(LedgerEntry.id)))

    def purge_ledger(self, *, created_before: datetime, now: datetime) -> int:
        """Delete ledger rows sealed before `created_before` that have expired by `now`.

        Records of mails sent from the portal before `created_before` go too.
        """
        result = self.session.execute(
            delete(LedgerEntry)
            .where(
                LedgerEntry.created_at < as_utc(created_before),
                LedgerEntry.expires_at <= as_utc(now),
            )
            .execution_options(synchronize_session=False)
        )
        # The Message-IDs of portal mails go with them: an answer after that is not a reply.
        self.session.execute(
            delete(PortalMessage)
            .where(PortalMessage.sent_at < as_utc(created_before))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- accounts -------------------------------------------------------------------------

    def recipients_by_id(self, ids: Iterable[int]) -> dict[int, Recipient]:
        """Return the accounts with these ids (missing ones are left out)."""
        found: dict[int, Recipient] = {}
        for chunk in in_chunks(list(dict.fromkeys(ids))):
            for recipient in self.session.scalars(select(Recipient).where(Recipient.id.in_(chunk))):
                found[recipient.id] = recipient
        return found

    def lock_recipient(self, recipient_id: int) -> Recipient | None:
        """Return the account with its row locked until the end of the transaction."""
        return self.session.scalar(
            select(Recipient).where(Recipient.id == recipient_id).with_for_update()
        )

    def inactive_since(
        self, cutoff: datetime, *, after_id: int = 0, limit: int = 1000
    ) -> list[Recipient]:
        """Return accounts with no login, activity or new message since `cutoff`, by id.

        Creation, last login, last activity and the newest message sealed for the
        account all count as use. Pages through the accounts with `after_id`.
        """
        cut = as_utc(cutoff)
        newer_message = exists().where(
            LedgerEntry.recipient_id == Recipient.id, LedgerEntry.created_at >= cut
        )
        query = (
            select(Recipient)
            .where(
                Recipient.created_at < cut,
                or_(Recipient.last_login_at.is_(None), Recipient.last_login_at < cut),
                or_(Recipient.last_activity_at.is_(None), Recipient.last_activity_at < cut),
                ~newer_message,
                Recipient.id > after_id,
            )
            .order_by(Recipient.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def last_used(self, recipient: Recipient) -> datetime:
        """Return when the account was last used (created, logged in, active or written to)."""
        newest_message = self.session.scalar(
            select(func.max(LedgerEntry.created_at)).where(LedgerEntry.recipient_id == recipient.id)
        )
        moments = [
            recipient.created_at,
            recipient.last_login_at,
            recipient.last_activity_at,
            newest_message,
        ]
        return max(m for m in moments if m is not None)

    # -- keys -----------------------------------------------------------------------------

    def rotation_due(self, created_before: datetime, *, limit: int = 1000) -> list[int]:
        """Return ids of accounts whose newest key version was created before `created_before`."""
        newest = func.max(RecipientKey.created_at)
        query = (
            select(RecipientKey.recipient_id)
            .group_by(RecipientKey.recipient_id)
            .having(newest < as_utc(created_before))
            .order_by(RecipientKey.recipient_id)
            .limit(limit)
        )
        return [int(rid) for rid in self.session.scalars(query)]

    def unused_key_versions(self, *, now: datetime, grace: timedelta) -> list[KeyVersionRef]:
        """Return live key versions that no unexpired message uses and that are not current.

        A version qualifies only once a newer version has existed for `grace`: a message
        sealed with the old version just before the rotation may still be on its way to the
        ledger.
        """
        at = as_utc(now)
        newer = aliased(RecipientKey)
        superseded = exists().where(
            newer.recipient_id == RecipientKey.recipient_id,
            newer.version > RecipientKey.version,
            newer.created_at <= at - grace,
        )
        in_use = exists().where(
            and_(
                LedgerEntry.recipient_id == RecipientKey.recipient_id,
                LedgerEntry.key_version == RecipientKey.version,
                LedgerEntry.expires_at > at,
            )
        )
        query = (
            select(RecipientKey.recipient_id, RecipientKey.version)
            .where(RecipientKey.wrapped_key.is_not(None), superseded, ~in_use)
            .order_by(RecipientKey.recipient_id, RecipientKey.version)
        )
        return [KeyVersionRef(int(r), int(v)) for r, v in self.session.execute(query)]

    # -- adviser options ------------------------------------------------------------------

    def set_adviser_read_receipts(self, adviser: str, enabled: bool, *, actor: str) -> None:
        """Choose whether an adviser gets a read receipt when a recipient first opens a message."""
        address = normalize_address(adviser)
        row = self.session.get(AdviserOption, address)
        if row is None:
            row = AdviserOption(address=address, read_receipts=enabled)
            self.session.add(row)
        row.read_receipts = enabled
        row.updated_at = self.clock()
        row.updated_by = actor
        self.session.flush()

    def advisers_with_read_receipts(self, advisers: Iterable[str]) -> set[str]:
        """Return which of `advisers` (normalized addresses) asked for read receipts."""
        wanted = list(dict.fromkeys(advisers))
        found: set[str] = set()
        for chunk in in_chunks(wanted):
            found.update(
                self.session.scalars(
                    select(AdviserOption.address).where(
                        AdviserOption.address.in_(chunk), AdviserOption.read_receipts.is_(True)
                    )
                )
            )
        return found
