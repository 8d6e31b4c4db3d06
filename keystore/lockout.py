"""Lockout of admins after repeated failed logins; back-off of recipients per address and IP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.audit import AuditService
from keystore.errors import KeystoreError
from keystore.models import LoginThrottle
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


# -- recipients: back-off per (address, client IP) ------------------------------------------
#
# A hard lock per account lets anyone who knows a customer's address keep that customer
# out for ever. Recipients are therefore slowed down per pair of address and client IP:
# the first `lockout_threshold` failures of a pair are free, then each further failure makes
# that pair wait twice as long (1 s, 2 s, 4 s, ...) up to `lockout_minutes`. The customer at
# another address (IP) is not affected. Unknown addresses are counted the same way, so the
# back-off tells nothing about which addresses have an account.

FORGET_AFTER = timedelta(days=1)
"""A pair's failures are forgotten after this long without a new one."""

_CREATE_ATTEMPTS = 3


def backoff(failures: int, threshold: int, cap: timedelta) -> timedelta:
    """Return how long a pair waits after its `failures`-th failure (0 below the threshold)."""
    if failures < threshold:
        return timedelta(0)
    # Capped exponent: 2**40 seconds is far beyond any cap, and keeps the number small.
    return min(timedelta(seconds=2 ** min(failures - threshold, 40)), cap)


def throttled_until(session: Session, address: str, ip: str, now: datetime) -> datetime | None:
    """Return until when the pair (address, ip) must wait, or None when it may try now."""
    row = session.scalar(
        select(LoginThrottle).where(LoginThrottle.address == address, LoginThrottle.ip == ip)
    )
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until


def register_pair_failure(session: Session, address: str, ip: str, now: datetime) -> timedelta:
    """Count a failed login of the pair (address, ip); return how long it must now wait."""
    settings = SettingsService(session).get()
    row = _pair(session, address, ip, now)
    if row.last_failure_at <= now - FORGET_AFTER:
        row.failures = 1  # the first failure after a quiet day
    else:
        # Increment in SQL so concurrent failures of one pair are all counted.
        row.failures = LoginThrottle.failures + 1
    row.last_failure_at = now
    session.flush()
    session.refresh(row, ["failures"])
    wait = backoff(
        row.failures, settings.lockout_threshold, timedelta(minutes=settings.lockout_minutes)
    )
    row.blocked_until = now + wait if wait else None
    if row.failures == settings.lockout_threshold:
        AuditService(session, clock=lambda: now).record(
            "security.lockout",
            actor="system",
            target=address,
            ip=ip,
            detail=f"{row.failures} failed logins from this IP address: it waits before each "
            f"further try, twice as long each time, up to {settings.lockout_minutes} minutes "
            "(other addresses are not affected)",
        )
    session.flush()
    return wait


def _pair(session: Session, address: str, ip: str, now: datetime) -> LoginThrottle:
    """Return the pair's row, creating it (two first failures at once make one row)."""
    query = select(LoginThrottle).where(LoginThrottle.address == address, LoginThrottle.ip == ip)
    for _ in range(_CREATE_ATTEMPTS):
        row = session.scalar(query)
        if row is not None:
            return row
        try:
            with session.begin_nested():
                row = LoginThrottle(address=address, ip=ip, failures=0, last_failure_at=now)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            continue
    raise KeystoreError(f"could not count a failed login for {address}; try again")


def clear_pair(session: Session, address: str, ip: str) -> None:
    """Forget the failures of (address, ip) after a successful login from there."""
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.address == address, LoginThrottle.ip == ip)
    )


def clear_address(session: Session, address: str) -> None:
    """Forget the failures of every pair of `address` (an admin's unlock or reset)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.address == address))


def purge_pairs(session: Session, now: datetime) -> int:
    """Delete pairs forgotten by now (housekeeping: made-up addresses do not pile up)."""
    result = session.execute(
        delete(LoginThrottle).where(LoginThrottle.last_failure_at <= now - FORGET_AFTER)
    )
    # Session.execute is typed to return a Result; for a DML statement it is a CursorResult.
    return int(result.rowcount)  # type: ignore[attr-defined]
