"""The security phrase is stored wrapped under the master key, bound to its account."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from keystore.db import Keystore
from keystore.errors import MasterKeyError
from keystore.masterkey import MasterKey
from keystore.masterrotation import rotate_master_key
from tests.keystore.conftest import FakeClock, fast_hasher
from tests.support.accounts import account_of
from tests.support.keystores import upgraded_from

PHRASE = "Grüne Wiese am Fluss"


def make_account(keystore: Keystore, address: str, phrase: str | None = PHRASE) -> int:
    with keystore.session() as session:
        service = keystore.recipients(session)
        recipient, _ = service.get_or_create(address, created_by="adviser@bank.example")
        service.set_security_phrase(recipient, phrase)
        return recipient.id


def stored(keystore: Keystore, recipient_id: int) -> str | None:
    with keystore.engine.connect() as connection:
        return connection.scalar(
            text("SELECT security_phrase FROM recipients WHERE id = :id"), {"id": recipient_id}
        )


def put_raw(keystore: Keystore, recipient_id: int, value: str | None) -> None:
    with keystore.engine.begin() as connection:
        connection.execute(
            text("UPDATE recipients SET security_phrase = :value WHERE id = :id"),
            {"value": value, "id": recipient_id},
        )


def phrase_of(keystore: Keystore, recipient_id: int) -> str | None:
    with account_of(keystore, recipient_id) as (service, recipient):
        return service.security_phrase(recipient)


def test_the_phrase_is_stored_wrapped_and_read_back(keystore: Keystore) -> None:
    recipient_id = make_account(keystore, "kunde@example.com", f"  {PHRASE} ")
    raw = stored(keystore, recipient_id)
    assert raw is not None and raw.startswith("wrapped:")
    assert PHRASE not in raw and "Wiese" not in raw
    assert phrase_of(keystore, recipient_id) == PHRASE


def test_a_wrapped_phrase_copied_to_another_account_does_not_open(keystore: Keystore) -> None:
    first = make_account(keystore, "a@example.com")
    second = make_account(keystore, "b@example.com", "something else")
    put_raw(keystore, second, stored(keystore, first))
    with pytest.raises(MasterKeyError):
        phrase_of(keystore, second)


def test_clearing_and_limits(keystore: Keystore) -> None:
    recipient_id = make_account(keystore, "kunde@example.com")
    with account_of(keystore, recipient_id) as (service, recipient):
        with pytest.raises(ValueError, match="at most 120"):
            service.set_security_phrase(recipient, "ß" * 121)
        assert service.security_phrase(recipient) == PHRASE  # nothing lost
        service.set_security_phrase(recipient, "ß" * 120)  # the longest fits the column
        assert service.security_phrase(recipient) == "ß" * 120
        service.set_security_phrase(recipient, "   ")
        assert recipient.security_phrase is None
        assert service.security_phrase(recipient) is None


def test_a_clear_phrase_from_before_is_read_and_wrapped_at_the_next_login(
    keystore: Keystore,
) -> None:
    recipient_id = make_account(keystore, "kunde@example.com", None)
    put_raw(keystore, recipient_id, "Blue tractor")
    assert phrase_of(keystore, recipient_id) == "Blue tractor"
    with account_of(keystore, recipient_id) as (service, recipient):
        service.record_login(recipient)
    raw = stored(keystore, recipient_id)
    assert raw is not None and raw.startswith("wrapped:") and "tractor" not in raw
    assert phrase_of(keystore, recipient_id) == "Blue tractor"


def test_master_key_rotation_rewraps_phrases(
    keystore: Keystore, keystore_url: str, clock: FakeClock
) -> None:
    wrapped = make_account(keystore, "a@example.com")
    legacy = make_account(keystore, "b@example.com", None)
    put_raw(keystore, legacy, "Blue tractor")
    before = stored(keystore, wrapped)
    new_key = MasterKey.generate()
    rotate_master_key(keystore, new_key)
    assert stored(keystore, wrapped) != before
    fresh = Keystore(keystore_url, master_key=new_key, clock=clock, hasher=fast_hasher())
    try:
        assert phrase_of(fresh, wrapped) == PHRASE
        assert phrase_of(fresh, legacy) == "Blue tractor"
        raw = stored(fresh, legacy)
        assert raw is not None and raw.startswith("wrapped:")
    finally:
        fresh.dispose()


def test_the_migration_wraps_clear_phrases(sqlite_keystore_url: str, clock: FakeClock) -> None:
    recipients = (
        "INSERT INTO recipients (id, address, key_id, status, security_phrase, "
        "created_at, created_by, failed_logins, read_receipts) VALUES "
        "(7, 'old@example.com', 'k7', 'active', ' Blue tractor ', "
        "'2026-01-01 00:00:00.000000', 'x', 0, 0), "
        "(8, 'none@example.com', 'k8', 'active', NULL, "
        "'2026-01-01 00:00:00.000000', 'x', 0, 0)"
    )
    with upgraded_from(
        sqlite_keystore_url, "0003", recipients, clock=clock, hasher=fast_hasher()
    ) as ks:
        raw = stored(ks, 7)
        assert raw is not None and raw.startswith("wrapped:") and "tractor" not in raw
        assert phrase_of(ks, 7) == "Blue tractor"
        assert stored(ks, 8) is None
