"""The guarded ledger insert the filter uses with cached key material."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keystore.db import Keystore
from keystore.ledger import record_sealed_if_current

SENDER = "adviser@bank.example"


def account(ks: Keystore, address: str = "kunde@example.com") -> int:
    with ks.session() as session:
        recipient, _ = ks.recipients(session).get_or_create(address, created_by=SENDER)
        return recipient.id


def record(ks: Keystore, message_id: str, recipient_id: int, version: int = 1) -> bool:
    with ks.session() as session:
        return ks.ledger(session).record_sealed_if_current(
            message_id=message_id,
            recipient_id=recipient_id,
            sender=SENDER,
            created=ks.clock(),
            expires=ks.clock() + timedelta(days=30),
            key_version=version,
        )


def test_records_for_the_current_version(keystore: Keystore) -> None:
    rid = account(keystore)
    assert record(keystore, "m1@bank", rid)
    with keystore.session() as session:
        entry = keystore.ledger(session).get("m1@bank", rid)
        assert entry is not None
        assert entry.sender == SENDER and entry.key_version == 1
        assert entry.created_at == keystore.clock()
        assert entry.expires_at == keystore.clock() + timedelta(days=30)


def test_refuses_a_superseded_destroyed_or_unknown_version(keystore: Keystore) -> None:
    rid = account(keystore)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(rid)
        assert recipient is not None
        assert recipients.rotate_key(recipient) == 2
    assert not record(keystore, "m1@bank", rid, version=1)
    assert not record(keystore, "m1@bank", rid, version=3)
    assert record(keystore, "m2@bank", rid, version=2)
    with keystore.session() as session:
        keystore.recipients(session).destroy_key_version(rid, 2)
    assert not record(keystore, "m3@bank", rid, version=2)
    # With version 2 destroyed, version 1 is the newest live one again.
    assert record(keystore, "m4@bank", rid, version=1)
    with keystore.session() as session:
        assert keystore.ledger(session).get("m1@bank", rid) is None
        assert keystore.ledger(session).get("m3@bank", rid) is None


def test_refuses_deactivated_and_deleted_accounts(keystore: Keystore) -> None:
    rid = account(keystore)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(rid)
        assert recipient is not None
        recipients.set_status(recipient, "deactivated")
    assert not record(keystore, "m1@bank", rid)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(rid)
        assert recipient is not None
        recipients.set_status(recipient, "active")
    assert record(keystore, "m2@bank", rid)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(rid)
        assert recipient is not None
        recipients.delete(recipient)
    assert not record(keystore, "m3@bank", rid)


def test_a_second_entry_for_the_same_message_is_an_integrity_error(keystore: Keystore) -> None:
    rid = account(keystore)
    assert record(keystore, "m1@bank", rid)
    with pytest.raises(IntegrityError):
        record(keystore, "m1@bank", rid)


def test_in_a_core_transaction(keystore: Keystore) -> None:
    rid = account(keystore)

    def insert(connection: Connection, message_id: str) -> bool:
        return record_sealed_if_current(
            connection,
            message_id=message_id,
            recipient_id=rid,
            sender=SENDER,
            created=keystore.clock(),
            expires=keystore.clock(),
            key_version=1,
        )

    with keystore.transaction() as connection:
        assert insert(connection, "m1@bank")
    with pytest.raises(RuntimeError), keystore.transaction() as connection:
        insert(connection, "m2@bank")
        raise RuntimeError("rolls back")
    with keystore.session() as session:
        assert [e.message_id for e in keystore.ledger(session).for_recipient(rid)] == ["m1@bank"]
