"""The admins' second factor in the keystore: a time step is used once, even under a race.

Wrong codes have a counter and a lock of their own, which a correct password leaves alone.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from keystore.db import Keystore
from keystore.models import Admin
from tests.keystore.conftest import FakeClock

STEP = 59_000_000  # a TOTP time step in late 2026
WAIT = 30  # seconds; only reached when something is wrong


def make_admin(keystore: Keystore) -> int:
    """Create an admin; return its id."""
    with keystore.session() as session:
        return int(keystore.admins(session).create("boss@bank.example", password="right").id)


def check(keystore: Keystore, admin_id: int, step: int | None) -> str:
    """Present a code of time step `step` (None: a wrong code) in a session of its own."""
    with keystore.session() as session:
        admins = keystore.admins(session)
        admin = admins.get_by_id(admin_id)
        assert admin is not None
        return admins.check_code(admin, step)


def test_a_step_is_used_once_and_only_newer_ones_follow(keystore: Keystore) -> None:
    admin_id = make_admin(keystore)
    assert check(keystore, admin_id, STEP) == "ok"
    assert check(keystore, admin_id, STEP) == "bad"
    assert check(keystore, admin_id, STEP - 1) == "bad"
    assert check(keystore, admin_id, STEP + 1) == "ok"


def test_a_racing_second_use_waits_and_is_refused(keystore: Keystore) -> None:
    """The second request reads the row before the first commits, and is still refused."""
    admin_id = make_admin(keystore)
    results: dict[str, str] = {}
    first_used = threading.Event()
    second_reading = threading.Event()

    def first() -> None:
        with keystore.session() as session:
            admins = keystore.admins(session)
            results["first"] = admins.check_code(admins.get_by_id(admin_id), STEP)
            first_used.set()
            second_reading.wait(WAIT)
            time.sleep(0.3)  # let the second reach the row (it must wait for this commit)

    def second() -> None:
        first_used.wait(WAIT)
        second_reading.set()
        results["second"] = check(keystore, admin_id, STEP)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == {"first": "ok", "second": "bad"}


def test_of_two_simultaneous_uses_exactly_one_wins(keystore: Keystore) -> None:
    admin_id = make_admin(keystore)

    def attempt(barrier: threading.Barrier, step: int, outcomes: list[str]) -> None:
        barrier.wait(WAIT)
        outcomes.append(check(keystore, admin_id, step))

    for round_ in range(8):
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=attempt, args=(barrier, STEP + round_, outcomes))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert sorted(outcomes) == ["bad", "ok"], round_


def test_wrong_codes_lock_the_second_factor_for_longer_each_round(
    keystore: Keystore, clock: FakeClock
) -> None:
    admin_id = make_admin(keystore)
    with keystore.session() as session:
        keystore.settings(session).update(
            {"lockout_threshold": 2, "lockout_minutes": 10}, actor="test"
        )
    assert [check(keystore, admin_id, None) for _ in range(2)] == ["bad", "bad"]
    assert check(keystore, admin_id, STEP) == "locked"  # the right code does not help
    clock.advance(minutes=11)
    assert [check(keystore, admin_id, None) for _ in range(2)] == ["bad", "bad"]
    clock.advance(minutes=11)
    assert check(keystore, admin_id, STEP) == "locked"  # 20 minutes this time
    clock.advance(minutes=10)
    assert check(keystore, admin_id, STEP) == "ok"
    with keystore.session() as session:
        admin = session.get(Admin, admin_id)
        assert admin is not None and admin.failed_codes == 0
        events = keystore.audit(session).search(action="security.lockout")
        assert [event.detail for event in reversed(events)] == [
            "2 wrong authentication codes; second factor locked for 10 minutes",
            "4 wrong authentication codes; second factor locked for 20 minutes",
        ]


def test_a_correct_password_leaves_the_code_counter_alone(
    keystore: Keystore, clock: FakeClock
) -> None:
    admin_id = make_admin(keystore)
    with keystore.session() as session:
        keystore.settings(session).update({"lockout_threshold": 3}, actor="test")
    check(keystore, admin_id, None)
    check(keystore, admin_id, None)
    with keystore.session() as session:
        admins = keystore.admins(session)
        assert admins.authenticate("boss@bank.example", "right").ok
        admins.record_login(admins.get_by_id(admin_id))  # what a full login does as well
    assert check(keystore, admin_id, None) == "bad"
    assert check(keystore, admin_id, STEP) == "locked"
    with keystore.session() as session:
        admin = session.get(Admin, admin_id)
        assert admin is not None
        assert admin.codes_locked_until == clock() + timedelta(minutes=15)
        assert admin.locked_until is None  # the password is not locked by wrong codes


def test_unlock_lifts_the_code_lock(keystore: Keystore) -> None:
    admin_id = make_admin(keystore)
    with keystore.session() as session:
        keystore.settings(session).update({"lockout_threshold": 1}, actor="test")
    check(keystore, admin_id, None)
    assert check(keystore, admin_id, STEP) == "locked"
    with keystore.session() as session:
        admins = keystore.admins(session)
        admins.unlock(admins.get_by_id(admin_id))
    assert check(keystore, admin_id, STEP) == "ok"
