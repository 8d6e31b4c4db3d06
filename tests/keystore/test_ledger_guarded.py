"""The guarded ledger insert the filter uses with cached key material."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from keystore.db import Keystore
from keystore.errors import DuplicateRecord, KeystoreUnavailable
from keystore.ledger import _GUARDED_INSERT, record_sealed_if_current
from keystore.masterkey import MasterKey
from tests.support.accounts import account_of

SENDER = "adviser@bank.example"


def account(ks: Keystore, address: str = "kunde@example.com") -> int:
    with ks.session() as session:
        recipient, _ = ks.recipients(session).get_or_create(address, created_by=SENDER)
        return recipient.id


def entry(ks: Keystore, message_id: str, recipient_id: int, version: int = 1) -> dict[str, Any]:
    """The arguments of one guarded insert."""
    return {
        "message_id": message_id,
        "recipient_id": recipient_id,
        "sender": SENDER,
        "created": ks.clock(),
        "expires": ks.clock() + timedelta(days=30),
        "key_version": version,
    }


def record(ks: Keystore, message_id: str, recipient_id: int, version: int = 1) -> bool:
    with ks.driver_transaction() as transaction:
        return record_sealed_if_current(transaction, **entry(ks, message_id, recipient_id, version))


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
    with account_of(keystore, rid) as (recipients, recipient):
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


def test_another_accounts_newer_version_does_not_count(keystore: Keystore) -> None:
    rid = account(keystore)
    other = account(keystore, "zweite@example.com")
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient = recipients.get_by_id(other)
        assert recipient is not None
        assert recipients.rotate_key(recipient) == 2
    assert record(keystore, "m1@bank", rid, version=1)


def test_refuses_deactivated_and_deleted_accounts(keystore: Keystore) -> None:
    rid = account(keystore)
    with account_of(keystore, rid) as (recipients, recipient):
        recipients.set_status(recipient, "deactivated")
    assert not record(keystore, "m1@bank", rid)
    with account_of(keystore, rid) as (recipients, recipient):
        recipients.set_status(recipient, "active")
    assert record(keystore, "m2@bank", rid)
    with account_of(keystore, rid) as (recipients, recipient):
        recipients.delete(recipient)
    assert not record(keystore, "m3@bank", rid)


def test_a_second_entry_for_the_same_message_is_a_duplicate_record(keystore: Keystore) -> None:
    rid = account(keystore)
    assert record(keystore, "m1@bank", rid)
    with pytest.raises(DuplicateRecord):
        record(keystore, "m1@bank", rid)


def test_a_driver_transaction_rolls_back_everything_on_error(keystore: Keystore) -> None:
    rid = account(keystore)
    other = account(keystore, "zweite@example.com")
    with pytest.raises(RuntimeError), keystore.driver_transaction() as transaction:
        assert record_sealed_if_current(transaction, **entry(keystore, "m1@bank", rid))
        raise RuntimeError("rolls back")
    assert record(keystore, "m2@bank", rid)
    # The second row fails (m2@bank is recorded for rid already): the first goes too.
    with pytest.raises(DuplicateRecord), keystore.driver_transaction() as transaction:
        for recipient_id in (other, rid):
            record_sealed_if_current(transaction, **entry(keystore, "m2@bank", recipient_id))
    with keystore.session() as session:
        ledger = keystore.ledger(session)
        assert [e.message_id for e in ledger.for_recipient(rid)] == ["m2@bank"]
        assert ledger.for_recipient(other) == []
    # The pooled connection is usable afterwards.
    assert record(keystore, "m3@bank", other)


def test_a_driver_transaction_on_an_unreachable_database_is_unavailable(
    tmp_path: Path, master_key: MasterKey
) -> None:
    missing = Keystore(f"sqlite:///{tmp_path}/missing/dir/x.db", master_key=master_key)
    shutil.rmtree(tmp_path / "missing")  # the keystore made the folder and an empty file
    with pytest.raises(KeystoreUnavailable), missing.driver_transaction() as transaction:
        transaction.execute(_GUARDED_INSERT, {})
