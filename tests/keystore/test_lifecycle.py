"""Leases, once-only notices and the housekeeping selections, on every backend."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial

from keystore.db import Keystore
from keystore.models import Recipient
from keystore.periodic import KeyVersionRef, LifecycleService
from tests.keystore.conftest import FakeClock
from tests.support.threads import run_at_once

DAY = timedelta(days=1)


def _service(session, keystore: Keystore) -> LifecycleService:
    return LifecycleService(session, clock=keystore.clock)


def _account(keystore: Keystore, address: str = "kunde@example.net") -> int:
    with keystore.session() as session:
        recipient, _pin = keystore.recipients(session).get_or_create(
            address, created_by="berater@bank.example"
        )
        return recipient.id


def _seal(keystore: Keystore, rid: int, message_id: str, *, version: int = 1, days: int = 30):
    now = keystore.clock()
    with keystore.session() as session:
        keystore.ledger(session).record_sealed(
            message_id=message_id,
            recipient_id=rid,
            sender="berater@bank.example",
            created=now,
            expires=now + timedelta(days=days),
            key_version=version,
        )


def test_lease_is_exclusive_until_it_expires(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        assert _service(session, keystore).acquire_lease("job", "a", ttl=timedelta(minutes=5))
    with keystore.session() as session:
        service = _service(session, keystore)
        assert not service.acquire_lease("job", "b", ttl=timedelta(minutes=5))
        assert service.acquire_lease("job", "a", ttl=timedelta(minutes=5))  # renewal
        assert service.lease_holder("job") == "a"
    clock.advance(minutes=6)
    with keystore.session() as session:
        service = _service(session, keystore)
        assert service.lease_holder("job") is None
        assert service.acquire_lease("job", "b", ttl=timedelta(minutes=5))
        service.release_lease("job", "a")  # not the holder: no effect
        assert service.lease_holder("job") == "b"
        service.release_lease("job", "b")
        assert service.lease_holder("job") is None


def test_lease_race_has_one_winner(keystore: Keystore) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(4)

    def contend(name: str) -> None:
        barrier.wait()
        with keystore.session() as session:
            if _service(session, keystore).acquire_lease("race", name, ttl=timedelta(minutes=5)):
                winners.append(name)

    run_at_once(partial(contend, f"h{i}") for i in range(4))
    assert len(winners) == 1


def test_notice_is_claimed_once(keystore: Keystore) -> None:
    with keystore.session() as session:
        service = _service(session, keystore)
        assert service.claim_notice("unread", "1:abc", message_id="m@x", recipient_id=1)
        assert not service.claim_notice("unread", "1:abc")
        assert service.claim_notice("expiry", "1:abc")
        assert service.recorded_keys("unread", ["1:abc", "2:def"]) == {"1:abc"}
    with keystore.session() as session:
        service = _service(session, keystore)
        service.unclaim_notice("unread", "1:abc")
        assert service.notice_sent_at("unread", "1:abc") is None
        assert service.claim_notice("unread", "1:abc")


def test_notice_race_has_one_winner(keystore: Keystore) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(4)

    def contend(number: int) -> None:
        barrier.wait()
        with keystore.session() as session:
            if _service(session, keystore).claim_notice("unread", "race"):
                winners.append(number)

    run_at_once(partial(contend, i) for i in range(4))
    assert len(winners) == 1


def test_message_selections(keystore: Keystore, clock: FakeClock) -> None:
    rid = _account(keystore)
    _seal(keystore, rid, "old@x")
    clock.advance(days=5)
    _seal(keystore, rid, "new@x")
    with keystore.session() as session:
        keystore.ledger(session).mark_opened("new@x", rid)
    clock.advance(days=6)
    now = clock()
    with keystore.session() as session:
        service = _service(session, keystore)
        unread = service.unopened_since(now - 10 * DAY, now=now)
        assert [e.message_id for e in unread] == ["old@x"]
        assert service.expiring_within(now + 15 * DAY, now=now) == []
        soon = service.expiring_within(now + 25 * DAY, now=now)
        assert [e.message_id for e in soon] == ["old@x", "new@x"]
        soon_unread = service.expiring_within(now + 25 * DAY, now=now, unread_only=True)
        assert [e.message_id for e in soon_unread] == ["old@x"]
        assert [e.message_id for e in service.opened_since(now - 7 * DAY)] == ["new@x"]
        assert [e.message_id for e in service.sealed_since(now - 7 * DAY, now=now)] == ["new@x"]
        keystore.ledger(session).revoke("old@x", by="berater@bank.example")
        assert service.unopened_since(now - 10 * DAY, now=now) == []


def test_purge_keeps_young_and_unexpired_rows(keystore: Keystore, clock: FakeClock) -> None:
    rid = _account(keystore)
    _seal(keystore, rid, "a@x")
    clock.advance(days=10)
    _seal(keystore, rid, "b@x", days=3650)
    clock.advance(days=400)
    now = clock()
    with keystore.session() as session:
        purged = _service(session, keystore).purge_ledger(created_before=now - 400 * DAY, now=now)
        assert purged == 1
        assert [e.message_id for e in keystore.ledger(session).for_recipient(rid)] == ["b@x"]


def test_inactivity_counts_login_activity_and_new_messages(
    keystore: Keystore, clock: FakeClock
) -> None:
    quiet = _account(keystore, "quiet@example.net")
    login = _account(keystore, "login@example.net")
    written = _account(keystore, "written@example.net")
    clock.advance(days=200)
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(login)
        assert recipient is not None
        keystore.recipients(session).record_login(recipient)
    _seal(keystore, written, "m@x")
    clock.advance(days=200)
    cutoff = clock() - 395 * DAY
    with keystore.session() as session:
        service = _service(session, keystore)
        assert [r.id for r in service.inactive_since(cutoff)] == [quiet]
        assert [r.id for r in service.inactive_since(clock() - 150 * DAY)] == [
            quiet,
            login,
            written,
        ]
        recipient = session.get(Recipient, written)
        assert recipient is not None
        assert service.last_used(recipient) == clock() - 200 * DAY


def test_rotation_due_and_unused_versions(keystore: Keystore, clock: FakeClock) -> None:
    rid = _account(keystore)
    _seal(keystore, rid, "v1@x", version=1)
    clock.advance(days=31)
    with keystore.session() as session:
        service = _service(session, keystore)
        assert service.rotation_due(clock() - 30 * DAY) == [rid]
        recipient = keystore.recipients(session).get_by_id(rid)
        assert recipient is not None
        assert keystore.recipients(session).rotate_key(recipient) == 2
        assert service.rotation_due(clock() - 30 * DAY) == []
        # v1's message has just expired, but v2 is brand new: wait for the grace period.
        assert service.unused_key_versions(now=clock(), grace=DAY) == []
    clock.advance(days=2)
    with keystore.session() as session:
        service = _service(session, keystore)
        assert service.unused_key_versions(now=clock(), grace=DAY) == [KeyVersionRef(rid, 1)]
        keystore.recipients(session).destroy_key_version(rid, 1)
        assert service.unused_key_versions(now=clock(), grace=DAY) == []
        assert keystore.recipients(session).key(rid, 1) is None


def test_version_in_use_is_kept(keystore: Keystore, clock: FakeClock) -> None:
    rid = _account(keystore)
    clock.advance(days=20)
    _seal(keystore, rid, "v1@x", version=1)
    clock.advance(days=11)
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(rid)
        assert recipient is not None
        keystore.recipients(session).rotate_key(recipient)
    clock.advance(days=5)
    with keystore.session() as session:
        assert _service(session, keystore).unused_key_versions(now=clock(), grace=DAY) == []


def test_adviser_read_receipts(keystore: Keystore) -> None:
    with keystore.session() as session:
        service = _service(session, keystore)
        service.set_adviser_read_receipts(" Berater@Bank.example ", True, actor="admin@bank")
        service.set_adviser_read_receipts("other@bank.example", True, actor="admin@bank")
        service.set_adviser_read_receipts("other@bank.example", False, actor="admin@bank")
        found = service.advisers_with_read_receipts(["berater@bank.example", "other@bank.example"])
        assert found == {"berater@bank.example"}
