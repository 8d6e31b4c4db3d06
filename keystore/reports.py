"""Read-only queries for the admin frontend: account detail, dashboard figures, audit search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from keystore.clock import as_utc
from keystore.models import AuditEvent, LedgerEntry, Recipient, RecipientKey

#: LIKE wildcards that a search text must not smuggle in.
_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class AccountCounts:
    """Accounts by state for the dashboard; `locked` counts active accounts locked right now."""

    active: int
    locked: int
    deactivated: int


@dataclass(frozen=True)
class KeyVersionInfo:
    """One key version of an account, without key material."""

    version: int
    created_at: datetime
    destroyed_at: datetime | None

    @property
    def live(self) -> bool:
        """Tell whether the key version still exists."""
        return self.destroyed_at is None


def account_counts(session: Session, now: datetime) -> AccountCounts:
    """Count accounts that are active, locked (at `now`) and deactivated."""
    rows = dict(
        session.execute(select(Recipient.status, func.count()).group_by(Recipient.status)).all()
    )
    locked = session.scalar(
        select(func.count())
        .select_from(Recipient)
        .where(Recipient.locked_until > as_utc(now), Recipient.status == "active")
    )
    return AccountCounts(
        active=int(rows.get("active", 0)),
        locked=int(locked or 0),
        deactivated=int(rows.get("deactivated", 0)),
    )


def message_count(session: Session, recipient_id: int) -> int:
    """Return how many sealed messages the ledger holds for an account."""
    query = select(func.count()).select_from(LedgerEntry)
    return int(session.scalar(query.where(LedgerEntry.recipient_id == recipient_id)) or 0)


def key_versions(session: Session, recipient_id: int) -> list[KeyVersionInfo]:
    """Return the key versions of an account, oldest first (never the key material)."""
    rows = session.execute(
        select(
            RecipientKey.version,
            RecipientKey.created_at,
            RecipientKey.destroyed_at,
            RecipientKey.wrapped_key.is_(None),
        )
        .where(RecipientKey.recipient_id == recipient_id)
        .order_by(RecipientKey.version)
    ).all()
    return [
        KeyVersionInfo(
            version=int(version),
            created_at=created,
            # A key destroyed without a time (account deletion) still counts as destroyed.
            destroyed_at=(destroyed or created) if gone else None,
        )
        for version, created, destroyed, gone in rows
    ]


def _like_pattern(text: str) -> str:
    escaped = (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def search_audit(
    session: Session,
    *,
    text: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Return audit events newest first; `text` matches actor, target, IP or detail anywhere.

    `action` matches a prefix, so "recipient." finds every action on recipient accounts.
    """
    query = select(AuditEvent)
    if text.strip():
        pattern = _like_pattern(text.strip().lower())
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape=_LIKE_ESCAPE)
                    for column in (
                        AuditEvent.actor,
                        AuditEvent.target,
                        AuditEvent.ip,
                        AuditEvent.detail,
                    )
                )
            )
        )
    if action.strip():
        prefix = action.strip()
        escaped = _like_pattern(prefix)[1:]  # keep the trailing %, drop the leading one
        query = query.where(AuditEvent.action.like(escaped, escape=_LIKE_ESCAPE))
    if since is not None:
        query = query.where(AuditEvent.at >= as_utc(since))
    if until is not None:
        query = query.where(AuditEvent.at < as_utc(until))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def audit_actions(session: Session) -> list[str]:
    """Return the distinct action names recorded so far, for a filter list."""
    return [
        str(action)
        for action in session.scalars(
            select(AuditEvent.action).distinct().order_by(AuditEvent.action)
        )
    ]
