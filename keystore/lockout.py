"""Per-account lockout after repeated failed logins (shared by recipients and admins)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from keystore.audit import AuditService
from keystore.settings import SettingsService


class Lockable(Protocol):
    """An account with a failure counter and a lock time."""

    failed_logins: int
    locked_until: datetime | None


def is_locked(account: Lockable, now: datetime) -> bool:
    """Tell whether the account is locked at `now`."""
    return account.locked_until is not None and account.locked_until > now


def register_failure(session: Session, account: Lockable, now: datetime) -> None:
    """Count a failed attempt; at the threshold lock the account and start counting afresh."""
    settings = SettingsService(session).get()
    # Increment in SQL so concurrent failures are all counted.
    account.failed_logins = type(account).failed_logins + 1
    session.flush()
    session.refresh(account, ["failed_logins"])
    if account.failed_logins >= settings.lockout_threshold:
        account.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        account.failed_logins = 0
        # A lockout is a security event: it goes to the audit log, whoever's account it is.
        name = str(getattr(account, "address", None) or getattr(account, "email", ""))
        AuditService(session, clock=lambda: now).record(
            "security.lockout",
            actor="system",
            target=name,
            detail=f"{settings.lockout_threshold} failed logins; locked for "
            f"{settings.lockout_minutes} minutes",
        )
    session.flush()


def register_success(session: Session, account: Lockable) -> None:
    """Reset the failure counter and any lock."""
    account.failed_logins = 0
    account.locked_until = None
    session.flush()
