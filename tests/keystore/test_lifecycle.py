"""Once-only notices and the housekeeping selections, on every backend."""

from __future__ import annotations

from datetime import timedelta

from keystore.db import Keystore
from keystore.models import Recipient
from keystore.periodic import KeyVersionRef, LifecycleService
from tests.keystore.conftest import FakeClock

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
        recipients = keystore.recipients(session)
        assert recipients.rotate_key_if_older(rid, clock() - 30 * DAY)
        assert not recipients.rotate_key_if_older(rid, clock() - 30 * DAY)  # v2 is new
        assert not recipients.rotate_key_if_older(rid + 1, clock())  # no such account
        assert recipients.key(rid, 2) is not None
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
