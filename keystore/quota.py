"""How many recipient accounts a sender has made lately: the brake on mass account creation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keystore.clock import Clock, utcnow
from keystore.models import Recipient

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Quota:
    """What one message would add to its sender's count of new recipients in the window."""

    new: int
    """Addresses of the message that have no account yet."""
    recent: int
    """Accounts the sender created within the window before this message."""
    limit: int

    @property
    def exceeded(self) -> bool:
        """True when the message's new accounts would take the sender over the limit."""
        return self.limit > 0 and self.new > 0 and self.recent + self.new > self.limit

    @property
    def never_fits(self) -> bool:
        """True when the message alone has more new addresses than the limit allows."""
        return self.limit > 0 and self.new > self.limit


class CreationQuota:
    """Counts a sender's new recipient accounts; two indexed queries, no writes."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def check(self, sender: str, addresses: Collection[str], *, limit: int) -> Quota:
        """Return the quota of a message from `sender` to normalized `addresses`."""
        if limit <= 0 or not addresses:
            return Quota(new=0, recent=0, limit=limit)
        known = set(
            self.session.scalars(select(Recipient.address).where(Recipient.address.in_(addresses)))
        )
        new = len(set(addresses) - known)
        if not new:
            return Quota(new=0, recent=0, limit=limit)
        recent = self.session.scalar(
            select(func.count())
            .select_from(Recipient)
            .where(Recipient.created_by == sender, Recipient.created_at >= self.clock() - WINDOW)
        )
        return Quota(new=new, recent=int(recent or 0), limit=limit)
