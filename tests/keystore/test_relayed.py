"""Records of relayed mails on every backend: looked up per transaction, unique, expired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keystore.db import Keystore
from keystore.errors import DuplicateRecord
from keystore.relayed import purge_relayed, record_relayed, relayed_parts
from tests.keystore.conftest import FakeClock

MESSAGE = "a" * 64
OTHER = "b" * 64


def parts_of(keystore: Keystore, message: str) -> set[str]:
    with keystore.driver_transaction() as transaction:
        return relayed_parts(transaction, message)


def test_parts_are_found_by_their_transaction(keystore: Keystore, clock: FakeClock) -> None:
    assert parts_of(keystore, MESSAGE) == set()
    with keystore.driver_transaction() as transaction:
        record_relayed(transaction, MESSAGE, ["1" * 32, "2" * 32], clock())
    with keystore.driver_transaction() as transaction:
        record_relayed(transaction, OTHER, ["1" * 32], clock())
    assert parts_of(keystore, MESSAGE) == {"1" * 32, "2" * 32}
    assert parts_of(keystore, OTHER) == {"1" * 32}


def test_a_part_is_recorded_once(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.driver_transaction() as transaction:
        record_relayed(transaction, MESSAGE, ["1" * 32], clock())
    with pytest.raises(DuplicateRecord), keystore.driver_transaction() as transaction:
        record_relayed(transaction, MESSAGE, ["1" * 32], clock())
    assert parts_of(keystore, MESSAGE) == {"1" * 32}


def test_records_expire(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.driver_transaction() as transaction:
        record_relayed(transaction, MESSAGE, ["1" * 32], clock())
    clock.advance(days=3)
    with keystore.driver_transaction() as transaction:
        record_relayed(transaction, OTHER, ["1" * 32], clock())
    with keystore.session() as session:
        assert purge_relayed(session, before=clock() - timedelta(days=2)) == 1
    assert parts_of(keystore, MESSAGE) == set()
    assert parts_of(keystore, OTHER) == {"1" * 32}
