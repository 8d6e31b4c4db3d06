"""Notice mails that were sent, recorded once per (kind, key)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.clock import Clock, utcnow
from keystore.models import Notice


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
