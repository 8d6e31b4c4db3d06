"""The append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from keystore.clock import Clock, as_utc, utcnow
from keystore.models import AuditEvent

_MAX = {"action": 64, "actor": 320, "target": 320, "ip": 64}


class AuditService:
    """Records who did what; rows are only ever added (and purged by age)."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def record(
        self, action: str, *, actor: str, target: str = "", ip: str = "", detail: str = ""
    ) -> AuditEvent:
        """Append one event; over-long values are truncated rather than refused."""
        event = AuditEvent(
            at=self.clock(),
            action=action[: _MAX["action"]],
            actor=actor[: _MAX["actor"]],
            target=target[: _MAX["target"]],
            ip=ip[: _MAX["ip"]],
            detail=detail[:4000],
        )
        self.session.add(event)
        self.session.flush()
        return event

    def search(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEvent]:
        """Return matching events, newest first."""
        query = select(AuditEvent)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        if target is not None:
            query = query.where(AuditEvent.target == target)
        if since is not None:
            query = query.where(AuditEvent.at >= as_utc(since))
        if until is not None:
            query = query.where(AuditEvent.at < as_utc(until))
        query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        return list(self.session.scalars(query.limit(limit).offset(offset)))

    def count(self, *, since: datetime | None = None) -> int:
        """Return the number of events (since a point in time, if given)."""
        query = select(func.count()).select_from(AuditEvent)
        if since is not None:
            query = query.where(AuditEvent.at >= as_utc(since))
        return int(self.session.scalar(query) or 0)

    def purge(self, before: datetime) -> int:
        """Delete events older than `before` (retention); returns how many."""
        result = self.session.execute(delete(AuditEvent).where(AuditEvent.at < as_utc(before)))
        # Session.execute is typed to return a Result; for a DML statement it is a CursorResult.
        return int(result.rowcount)  # type: ignore[attr-defined]
