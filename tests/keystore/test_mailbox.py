"""The secure mailbox storage: chunks, quota, paging, reading, deleting, shredding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from keystore.db import Keystore
from keystore.errors import NotFound
from keystore.mailbox import CHUNK_SIZE, MailboxFull, new_entry_id
from keystore.models import MailboxChunk, MailboxMessage
from tests.keystore.conftest import FakeClock

SENDER = "adviser@bank.example"
MB = 1024 * 1024


def account(ks: Keystore, address: str = "kunde@example.com") -> int:
    with ks.session() as session:
        recipient, _ = ks.recipients(session).get_or_create(address, created_by=SENDER)
        return int(recipient.id)


def store(
    ks: Keystore,
    account_id: int,
    message_id: str,
    envelope: bytes,
    *,
    quota: int | None = None,
    days: int = 30,
    version: int = 1,
) -> str:
    with ks.session() as session:
        entry = ks.mailbox(session).store(
            account_id,
            new_entry_id(),
            message_id=message_id,
            key_version=version,
            envelope=envelope,
            summary=b"sealed-summary-" + message_id.encode(),
            expires_at=ks.clock() + timedelta(days=days),
            quota=quota,
        )
        return entry.id


def chunk_rows(ks: Keystore) -> int:
    with ks.session() as session:
        return int(session.scalar(select(func.count()).select_from(MailboxChunk)) or 0)


def test_store_and_read_back_in_chunks(keystore: Keystore) -> None:
    owner = account(keystore)
    envelope = bytes(range(256)) * (10 * MB // 256)  # 10 MiB
    entry_id = store(keystore, owner, "m1@bank", envelope)
    assert chunk_rows(keystore) == 10 * MB // CHUNK_SIZE
    with keystore.session() as session:
        mailbox = keystore.mailbox(session)
        entry = mailbox.entry(owner, entry_id)
        assert entry is not None and entry.size == len(envelope)
        assert entry.read_at is None and entry.summary == b"sealed-summary-m1@bank"
        assert mailbox.envelope(owner, entry_id) == envelope
        pieces = mailbox.chunks(owner, entry_id)
        assert pieces is not None
        assert max(len(piece) for piece in pieces) == CHUNK_SIZE
        assert mailbox.usage(owner) == len(envelope)
        assert mailbox.count(owner) == 1


def test_a_short_envelope_is_one_chunk(keystore: Keystore) -> None:
    owner = account(keystore)
    entry_id = store(keystore, owner, "m1@bank", b"x")
    with keystore.session() as session:
        assert keystore.mailbox(session).envelope(owner, entry_id) == b"x"
    assert chunk_rows(keystore) == 1


def test_another_account_sees_nothing(keystore: Keystore) -> None:
    owner, other = account(keystore), account(keystore, "other@example.com")
    entry_id = store(keystore, owner, "m1@bank", b"secret envelope")
    with keystore.session() as session:
        mailbox = keystore.mailbox(session)
        assert mailbox.entry(other, entry_id) is None
        assert mailbox.envelope(other, entry_id) is None
        assert mailbox.mark_read(other, entry_id) is False
        assert mailbox.delete(other, entry_id) is False
        assert mailbox.entry(owner, entry_id) is not None


def test_quota_refuses_before_writing(keystore: Keystore) -> None:
    owner = account(keystore)
    store(keystore, owner, "m1@bank", b"a" * 600, quota=1000)
    with pytest.raises(MailboxFull) as raised:
        store(keystore, owner, "m2@bank", b"b" * 500, quota=1000)
    assert (raised.value.used, raised.value.limit, raised.value.size) == (600, 1000, 500)
    assert "full" in str(raised.value)
    with keystore.session() as session:
        assert keystore.mailbox(session).count(owner) == 1
    assert chunk_rows(keystore) == 1
    store(keystore, owner, "m3@bank", b"c" * 400, quota=1000)  # exactly full is fine


def test_quota_from_settings(keystore: Keystore) -> None:
    owner = account(keystore)
    with keystore.session() as session:
        keystore.settings(session).update(
            {"mailbox_quota": 1 * MB, "max_message_size": 1 * MB}, actor="admin"
        )
    store(keystore, owner, "m1@bank", b"a" * (MB - 10))
    with pytest.raises(MailboxFull):
        store(keystore, owner, "m2@bank", b"a" * 11)


def test_storing_again_replaces_and_keeps_the_id(keystore: Keystore) -> None:
    owner = account(keystore)
    first = store(keystore, owner, "m1@bank", b"a" * 900, quota=1000)
    again = store(keystore, owner, "m1@bank", b"b" * 950, quota=1000)
    assert again == first
    with keystore.session() as session:
        mailbox = keystore.mailbox(session)
        assert mailbox.count(owner) == 1
        assert mailbox.envelope(owner, first) == b"b" * 950


def test_unknown_account_and_bad_input(keystore: Keystore) -> None:
    with pytest.raises(NotFound):
        store(keystore, 999_999, "m1@bank", b"x")
    owner = account(keystore)
    with pytest.raises(ValueError, match="empty"):
        store(keystore, owner, "m1@bank", b"")
    assert chunk_rows(keystore) == 0


def test_page_newest_first(keystore: Keystore, clock: FakeClock) -> None:
    owner = account(keystore)
    ids = []
    for number in range(7):
        ids.append(store(keystore, owner, f"m{number}@bank", b"x"))
        clock.advance(minutes=1)
    with keystore.session() as session:
        mailbox = keystore.mailbox(session)
        assert [e.id for e in mailbox.page(owner, 0, 3)] == ids[::-1][:3]
        assert [e.id for e in mailbox.page(owner, 3, 3)] == ids[::-1][3:6]
        assert [e.id for e in mailbox.page(owner, 6, 3)] == ids[:1]
        assert mailbox.count(owner) == 7 and mailbox.unread(owner) == 7


def test_mark_read_once(keystore: Keystore, clock: FakeClock) -> None:
    owner = account(keystore)
    entry_id = store(keystore, owner, "m1@bank", b"x")
    with keystore.session() as session:
        assert keystore.mailbox(session).mark_read(owner, entry_id) is True
        assert keystore.mailbox(session).mark_read(owner, entry_id, clock() + timedelta(1)) is False
    with keystore.session() as session:
        entry = keystore.mailbox(session).entry(owner, entry_id)
        assert entry is not None and entry.read_at == clock()


def test_delete_removes_the_chunks(keystore: Keystore) -> None:
    owner = account(keystore)
    entry_id = store(keystore, owner, "m1@bank", b"z" * (CHUNK_SIZE * 2 + 1))
    assert chunk_rows(keystore) == 3
    with keystore.session() as session:
        assert keystore.mailbox(session).delete(owner, entry_id) is True
        assert keystore.mailbox(session).delete(owner, entry_id) is False
    assert chunk_rows(keystore) == 0


def test_expired_are_deleted_once(keystore: Keystore, clock: FakeClock) -> None:
    owner = account(keystore)
    short = store(keystore, owner, "m1@bank", b"x" * 10, days=1)
    store(keystore, owner, "m2@bank", b"y" * 10, days=30)
    clock.advance(days=1)
    with keystore.session() as session:
        deleted = keystore.mailbox(session).delete_expired()
        assert [e.id for e in deleted] == [short]
    with keystore.session() as session:
        assert keystore.mailbox(session).delete_expired() == []
        assert keystore.mailbox(session).count(owner) == 1
    assert chunk_rows(keystore) == 1


def test_destroying_a_key_version_deletes_its_messages(keystore: Keystore) -> None:
    owner = account(keystore)
    store(keystore, owner, "m1@bank", b"old", version=1)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(owner)
        assert recipient is not None
        assert recipients.rotate_key(recipient) == 2
    store(keystore, owner, "m2@bank", b"new", version=2)
    with keystore.session() as session:
        keystore.recipients(session).destroy_key_version(owner, 1)
    with keystore.session() as session:
        remaining = keystore.mailbox(session).page(owner)
        assert [e.message_id for e in remaining] == ["m2@bank"]
    assert chunk_rows(keystore) == 1


def test_deleting_the_account_deletes_its_mailbox(keystore: Keystore) -> None:
    owner, other = account(keystore), account(keystore, "other@example.com")
    store(keystore, owner, "m1@bank", b"x" * (CHUNK_SIZE + 1))
    store(keystore, other, "m1@bank", b"y")
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(owner)
        assert recipient is not None
        recipients.delete(recipient)
    with keystore.session() as session:
        rows = session.scalars(select(MailboxMessage.recipient_id)).all()
        assert rows == [other]
    assert chunk_rows(keystore) == 1


def test_withdrawal_deletes_every_copy(keystore: Keystore) -> None:
    owner, other = account(keystore), account(keystore, "other@example.com")
    store(keystore, owner, "m1@bank", b"x")
    store(keystore, other, "m1@bank", b"y")
    store(keystore, other, "m2@bank", b"z")
    with keystore.session() as session:
        mailbox = keystore.mailbox(session)
        assert len(mailbox.for_message("m1@bank")) == 2
        assert mailbox.delete_message("m1@bank") == 2
        assert mailbox.delete_message("m1@bank") == 0
    assert chunk_rows(keystore) == 1


def test_usage_and_totals(keystore: Keystore) -> None:
    owner, other = account(keystore), account(keystore, "other@example.com")
    first = store(keystore, owner, "m1@bank", b"x" * 100)
    store(keystore, owner, "m2@bank", b"x" * 50)
    store(keystore, other, "m1@bank", b"y" * 7)
    with keystore.session() as session:
        mailbox = keystore.mailbox(session)
        mailbox.mark_read(owner, first)
        assert mailbox.usage_by_account([owner, other, 424242]) == {owner: 150, other: 7}
        totals = mailbox.totals()
        assert (totals.accounts, totals.messages, totals.bytes, totals.unread) == (2, 3, 157, 2)


def test_delivery_method_of_an_account(keystore: Keystore) -> None:
    owner = account(keystore)
    with keystore.session() as session:
        keystore.mailbox(session).set_delivery_method(owner, "mailbox")
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(owner)
        assert recipient is not None and recipient.delivery_method == "mailbox"
        keystore.mailbox(session).set_delivery_method(owner, None)
        with pytest.raises(ValueError, match="unknown delivery method"):
            keystore.mailbox(session).set_delivery_method(owner, "fax")
        with pytest.raises(NotFound):
            keystore.mailbox(session).set_delivery_method(999_999, "both")


@pytest.mark.parametrize("lost", [0, 1, 2])
def test_a_lost_piece_is_an_error_not_a_shorter_message(keystore: Keystore, lost: int) -> None:
    owner = account(keystore)
    entry_id = store(keystore, owner, "m1@bank", b"p" * (3 * CHUNK_SIZE - 5))
    with keystore.session() as session:
        session.execute(
            MailboxChunk.__table__.delete().where(  # type: ignore[attr-defined]
                MailboxChunk.entry_id == entry_id, MailboxChunk.seq == lost
            )
        )
    with keystore.session() as session, pytest.raises(NotFound, match=f"part {lost}"):
        keystore.mailbox(session).envelope(owner, entry_id)
