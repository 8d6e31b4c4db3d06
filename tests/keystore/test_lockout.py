"""The admin lockout: the threshold locks for a while, and counting starts afresh after it."""

from __future__ import annotations

from datetime import timedelta

from keystore.db import Keystore
from keystore.lockout import is_locked, register_failure
from tests.keystore.conftest import FakeClock

EMAIL = "boss@bank.example"


def test_the_threshold_locks_and_the_count_starts_afresh(
    keystore: Keystore, clock: FakeClock
) -> None:
    with keystore.session() as session:
        keystore.settings(session).update(
            {"lockout_threshold": 3, "lockout_minutes": 10}, actor="admin"
        )
        admin = keystore.admins(session).create(EMAIL, password="one-time password")
        for _ in range(2):
            register_failure(session, admin, clock())
        assert admin.failed_logins == 2 and not is_locked(admin, clock())
        register_failure(session, admin, clock())
        assert admin.failed_logins == 0
        assert admin.locked_until == clock() + timedelta(minutes=10)
        assert is_locked(admin, clock() + timedelta(minutes=10, seconds=-1))
        assert not is_locked(admin, clock() + timedelta(minutes=10))
        (event,) = keystore.audit(session).search(action="security.lockout")
        assert (event.actor, event.target, event.at) == ("system", EMAIL, clock())
        assert event.detail == "3 failed logins; locked for 10 minutes"
    # After the lock, the next lock takes the full threshold again.
    clock.advance(minutes=10)
    with keystore.session() as session:
        admin = keystore.admins(session).get(EMAIL)
        assert admin is not None
        for _ in range(2):
            register_failure(session, admin, clock())
        assert not is_locked(admin, clock())
