"""Database errors leave the keystore as its own errors, with SQLAlchemy's as the cause."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from keystore.db import Keystore
from keystore.errors import DatabaseError, DuplicateRecord


def test_a_refused_statement_is_a_database_error(keystore: Keystore) -> None:
    with pytest.raises(DatabaseError) as info, keystore.session() as session:
        session.execute(text("SELECT :missing"), {})
    assert not isinstance(info.value, DuplicateRecord)
    assert info.value.__cause__ is not None


def test_a_taken_unique_key_is_a_duplicate_record(keystore: Keystore) -> None:
    with keystore.session() as session:
        keystore.admins(session).create("boss@bank.example", password="x")
    with pytest.raises(DuplicateRecord) as info, keystore.session() as session:
        session.execute(
            text(
                "INSERT INTO admins (email, role, password_hash, failed_logins, disabled,"
                " created_at) VALUES ('boss@bank.example', 'admin', 'x', 0, false, :now)"
            ),
            {"now": keystore.clock().replace(tzinfo=None)},
        )
    cause = str(info.value.__cause__).lower()
    assert "unique" in cause or "duplicate" in cause
