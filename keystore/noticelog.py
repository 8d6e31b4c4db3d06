"""Notice mails that were sent, recorded once per (kind, key)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keystore.chunks import in_chunks
from keystore.clock import Clock, as_utc, utcnow
from keystore.models import Notice
from keystore.rows import add_once


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
        """Record (claim) the notice (kind, key); False when it already was.

        The unique constraint decides between concurrent callers: exactly one of them gets
        True, and only that one may send the mail.
        """
        if self.was_sent(kind, key):
            return False
        notice = Notice(
            kind=kind,
            key=key,
            message_id=message_id[:255] if message_id else None,
            recipient_id=recipient_id,
            sent_at=self.clock(),
        )
        return add_once(self.session, notice)

    def forget(self, kind: str, key: str) -> None:
        """Forget a recorded notice whose mail could not be sent, so a later run retries."""
        self.session.execute(
            delete(Notice)
            .where(Notice.kind == kind, Notice.key == key)
            .execution_options(synchronize_session=False)
        )

    def sent_at(self, kind: str, key: str) -> datetime | None:
        """Return when the notice (kind, key) was recorded, or None."""
        return self.session.scalar(
            select(Notice.sent_at).where(Notice.kind == kind, Notice.key == key)
        )

    def recorded(self, kind: str, keys: Sequence[str]) -> set[str]:
        """Return which of `keys` already have a notice of `kind`."""
        found: set[str] = set()
        for chunk in in_chunks(list(dict.fromkeys(keys))):
            found.update(
                self.session.scalars(
                    select(Notice.key).where(Notice.kind == kind, Notice.key.in_(chunk))
                )
            )
        return found

    def purge(self, kinds: Sequence[str], *, before: datetime) -> int:
        """Delete notices of `kinds` recorded before `before`; returns how many."""
        result = self.session.execute(
            delete(Notice)
            .where(Notice.kind.in_(list(kinds)), Notice.sent_at < as_utc(before))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def forget_recipient(self, recipient_id: int) -> int:
        """Delete every notice about a recipient (when the account is deleted)."""
        result = self.session.execute(
            delete(Notice)
            .where(Notice.recipient_id == recipient_id)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
