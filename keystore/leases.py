"""Named leases: at most one holder per name, so one instance at a time runs a job.

A lease is free from the instant it expires (``expires_at <= now``), the same rule as
the ledger's expiry: a crashed holder blocks the job for at most its ttl.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from keystore.clock import Clock, utcnow
from keystore.models import Lease
from keystore.rows import add_once


class LeaseService:
    """Takes, renews and gives back named leases."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def acquire(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `holder`; False while someone else holds it.

        Commit the session right after, so other instances see the outcome.
        """
        now = self.clock()
        # Renewal is the common case, so try the update first; the primary key decides
        # between instances that find no row and insert at once.
        result = self.session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) == 1:  # type: ignore[attr-defined]
            return True
        return add_once(self.session, Lease(name=name, holder=holder, expires_at=now + ttl))

    def release(self, name: str, holder: str) -> None:
        """Give the lease up (only if `holder` holds it)."""
        self.session.execute(
            delete(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .execution_options(synchronize_session=False)
        )
