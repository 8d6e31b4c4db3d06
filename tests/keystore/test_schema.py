"""The migration builds exactly the models' schema, and datetimes round-trip as aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from keystore.db import Keystore
from keystore.errors import KeystoreUnavailable
from keystore.masterkey import MasterKey
from keystore.models import AuditEvent, Base


def test_migrated_schema_matches_models(keystore: Keystore) -> None:
    with keystore.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_is_current_after_upgrade(keystore: Keystore) -> None:
    assert keystore.is_current()
    assert keystore.current_revision() is not None
    keystore.upgrade()  # idempotent
    assert keystore.is_current()


def test_empty_database_is_not_current(sqlite_keystore_url: str) -> None:
    ks = Keystore(sqlite_keystore_url, master_key=MasterKey.generate())
    assert not ks.is_current()
    ks.upgrade()
    assert ks.is_current()
    ks.dispose()


def test_datetimes_round_trip_as_aware_utc(keystore: Keystore) -> None:
    berlin = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 29, 1, 59, 58, 654321, tzinfo=berlin)
    with keystore.session() as session:
        event = AuditEvent(at=moment, action="x", actor="a", target="", ip="", detail="")
        session.add(event)
    with keystore.session() as session:
        stored = session.get(AuditEvent, event.id)
        assert stored is not None
        session.expire(stored)
        assert stored.at == moment
        assert stored.at.tzinfo == UTC
        assert stored.at.microsecond == 654321


def test_naive_datetimes_are_refused(keystore: Keystore) -> None:
    with pytest.raises(Exception, match="naive datetime"), keystore.session() as session:
        session.add(AuditEvent(at=datetime(2026, 1, 1), action="x", actor="a"))
        session.flush()


def test_unreachable_database_is_unavailable(tmp_path) -> None:
    ks = Keystore(
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
        master_key=MasterKey.generate(),
    )
    with pytest.raises(KeystoreUnavailable, match="try again later"):
        ks.ping()
    with pytest.raises(KeystoreUnavailable), ks.session() as session:
        session.execute(text("SELECT 1"))
    ks.dispose()


def test_session_rolls_back_on_error(keystore: Keystore) -> None:
    with pytest.raises(RuntimeError), keystore.session() as session:
        keystore.audit(session).record("x", actor="a")
        raise RuntimeError("boom")
    with keystore.session() as session:
        assert keystore.audit(session).search() == []


def test_repr_hides_password() -> None:
    ks = Keystore("sqlite://", master_key=MasterKey.generate())
    assert "sqlite" in repr(ks)
    ks2 = Keystore("postgresql+psycopg://u:hunter2@127.0.0.1:1/x", master_key=MasterKey.generate())
    assert "hunter2" not in repr(ks2)
    ks.dispose()
    ks2.dispose()


def test_schema_comparison_detects_drift(keystore: Keystore) -> None:
    index = next(
        i for i in Base.metadata.tables["ledger"].indexes if i.name == "ix_ledger_expires_at"
    )
    index.drop(keystore.engine)
    try:
        with keystore.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [entry[0] for entry in diff] == ["add_index"]
    finally:
        index.create(keystore.engine)


def test_database_errors_do_not_carry_parameters(keystore: Keystore) -> None:
    from keystore.errors import DuplicateRecord
    from keystore.models import Admin

    secret_hash = "$argon2id$v=19$m=1024,t=1,p=1$c2VjcmV0$c2VjcmV0c2VjcmV0"
    with keystore.session() as session:
        keystore.admins(session).create("boss@bank.example", password="x")
    with pytest.raises(DuplicateRecord) as info, keystore.session() as session:
        session.add(
            Admin(
                email="boss@bank.example",
                role="admin",
                password_hash=secret_hash,
                failed_logins=0,
                disabled=False,
                created_at=keystore.clock(),
            )
        )
        session.flush()
    assert secret_hash not in str(info.value)
    assert secret_hash not in str(info.value.__cause__)
