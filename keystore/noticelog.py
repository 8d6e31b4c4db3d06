"""Notice mails that were sent, recorded once per (kind, key), and leases for periodic jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.clock import Clock, as_utc, utcnow
from keystore.models import Lease, Notice


class NoticeService:
    """Remembers which notices went out, so each is sent once across all instances."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def was_sent(self, kind: str, key: str) -> bool:
        """Tell whether the notice (kind, key) was recorded."""
        found = self.session.scalar(select(Notice.id).where(Notice.kind == kind, Notice.key == key))
        return found is not None

    def record(
        self,
        kind: str,
        key: str,
        *,
        message_id: str | None = None,
        recipient_id: int | None = None,
    ) -> bool:
        """Record a notice; True when this call recorded it, False when it already was."""
        if self.was_sent(kind, key):
            return False
        notice = Notice(
            kind=kind,
            key=key,
            message_id=message_id[:255] if message_id else None,
            recipient_id=recipient_id,
            sent_at=self.clock(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(notice)
        except IntegrityError:
            return False
        return True

    def purge(self, before: datetime) -> int:
        """Forget notices sent before `before`; returns how many."""
        result = self.session.execute(delete(Notice).where(Notice.sent_at < as_utc(before)))
        return int(result.rowcount)  # type: ignore[attr-defined]


class LeaseService:
    """Named leases: at most one holder per name until the lease expires or is released."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def acquire(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `holder`; False while someone else holds it.

        Commit the session right after, so other instances see the outcome.
        """
        now = self.clock()
        result = self.session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) == 1:  # type: ignore[attr-defined]
            return True
        try:
            with self.session.begin_nested():
                self.session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:
            return False
        return True

    def release(self, name: str, holder: str) -> None:
        """Give the lease up (only if `holder` holds it)."""
        self.session.execute(
            delete(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .execution_options(synchronize_session=False)
        )

    def holder(self, name: str) -> str | None:
        """Return who holds the lease now, or None."""
        row = self.session.execute(
            select(Lease.holder, Lease.expires_at).where(Lease.name == name)
        ).first()
        if row is None or row.expires_at <= self.clock():
            return None
        return str(row.holder)
