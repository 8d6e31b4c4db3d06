from datetime import timedelta

from keystore.db import Keystore
from tests.keystore.conftest import FakeClock

SENDER = "adviser@bank.example"


def seal(ks: Keystore, message_id: str, *recipients: str) -> list[int]:
    ids = []
    with ks.session() as session:
        for address in recipients:
            recipient, _ = ks.recipients(session).get_or_create(address, created_by=SENDER)
            ks.ledger(session).record_sealed(
                message_id=message_id,
                recipient_id=recipient.id,
                sender=SENDER,
                created=ks.clock(),
                expires=ks.clock() + timedelta(days=30),
                key_version=1,
            )
            ids.append(recipient.id)
    return ids


def test_record_and_find(keystore: Keystore) -> None:
    a, b = seal(keystore, "<m1@bank>", "a@example.com", "b@example.com")
    with keystore.session() as session:
        ledger = keystore.ledger(session)
        entries = ledger.find("<m1@bank>")
        assert [e.recipient_id for e in entries] == sorted([a, b])
        entry = ledger.get("<m1@bank>", a)
        assert entry is not None
        assert entry.sender == SENDER and entry.key_version == 1
        assert entry.expires_at - entry.created_at == timedelta(days=30)
        assert entry.first_opened_at is None and entry.revoked_at is None
        assert ledger.get("<m1@bank>", 9999) is None
        assert ledger.for_recipient(a) == [entry]


def test_sealing_again_updates_the_entry(keystore: Keystore, clock: FakeClock) -> None:
    seal(keystore, "<m1@bank>", "a@example.com")
    clock.advance(minutes=5)
    seal(keystore, "<m1@bank>", "a@example.com")
    with keystore.session() as session:
        entries = keystore.ledger(session).find("<m1@bank>")
        assert len(entries) == 1 and entries[0].created_at == clock()


def test_first_open_is_reported_once(keystore: Keystore, clock: FakeClock) -> None:
    a, b = seal(keystore, "<m1@bank>", "a@example.com", "b@example.com")
    opened_at = clock()
    with keystore.session() as session:
        ledger = keystore.ledger(session)
        assert ledger.mark_opened("<m1@bank>", a) is True
        clock.advance(hours=1)
        assert ledger.mark_opened("<m1@bank>", a) is False
        assert ledger.mark_opened("<unknown@bank>", a) is False
    with keystore.session() as session:
        ledger = keystore.ledger(session)
        entry_a, entry_b = ledger.get("<m1@bank>", a), ledger.get("<m1@bank>", b)
        assert entry_a is not None and entry_b is not None
        assert entry_a.first_opened_at == opened_at
        assert entry_b.first_opened_at is None
        assert ledger.mark_opened("<m1@bank>", b) is True


def test_revoke(keystore: Keystore) -> None:
    a, _ = seal(keystore, "<m1@bank>", "a@example.com", "b@example.com")
    seal(keystore, "<m2@bank>", "a@example.com")
    with keystore.session() as session:
        ledger = keystore.ledger(session)
        assert ledger.revoke("<m1@bank>", by="admin@bank.example") == 2
        assert ledger.revoke("<m1@bank>", by="admin@bank.example") == 0
        entry = ledger.get("<m1@bank>", a)
        assert entry is not None
        assert entry.revoked_by == "admin@bank.example" and entry.revoked_at == keystore.clock()
        assert ledger.get("<m2@bank>", a).revoked_at is None  # type: ignore[union-attr]


def test_counts(keystore: Keystore, clock: FakeClock) -> None:
    a, _ = seal(keystore, "<old@bank>", "a@example.com", "b@example.com")
    clock.advance(days=10)
    start = clock()
    seal(keystore, "<new@bank>", "a@example.com")
    with keystore.session() as session:
        ledger = keystore.ledger(session)
        ledger.mark_opened("<old@bank>", a)
        ledger.revoke("<new@bank>", by="admin")
        counts = ledger.count_since(start)
        assert (counts.sealed, counts.opened, counts.revoked) == (1, 1, 1)
        assert [e.message_id for e in ledger.for_recipient(a)] == ["<new@bank>", "<old@bank>"]


def test_counts_are_zero_when_nothing_happened(keystore: Keystore, clock: FakeClock) -> None:
    seal(keystore, "<m1@bank>", "a@example.com")
    with keystore.session() as session:
        counts = keystore.ledger(session).count_since(clock() + timedelta(seconds=1))
        assert (counts.sealed, counts.opened, counts.revoked) == (0, 0, 0)
