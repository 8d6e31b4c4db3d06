from datetime import timedelta

import pytest

from keystore.db import Keystore
from keystore.errors import KeystoreError
from tests.keystore.conftest import FakeClock


def test_audit_record_and_search(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        audit = keystore.audit(session)
        audit.record("recipient.reset", actor="admin@bank", target="kunde@example.com", ip="::1")
        clock.advance(minutes=1)
        audit.record("login", actor="kunde@example.com", detail="x" * 5000)
        clock.advance(minutes=1)
        audit.record("recipient.reset", actor="helpdesk@bank", target="other@example.com")
    with keystore.session() as session:
        audit = keystore.audit(session)
        newest_first = audit.search()
        assert [e.actor for e in newest_first] == [
            "helpdesk@bank",
            "kunde@example.com",
            "admin@bank",
        ]
        assert len(newest_first[1].detail) == 4000
        assert [e.target for e in audit.search(action="recipient.reset")] == [
            "other@example.com",
            "kunde@example.com",
        ]
        assert [e.ip for e in audit.search(actor="admin@bank")] == ["::1"]
        assert len(audit.search(target="kunde@example.com")) == 1
        assert len(audit.search(since=clock() - timedelta(minutes=1))) == 2
        assert len(audit.search(until=clock() - timedelta(minutes=1))) == 1
        assert len(audit.search(limit=1, offset=2)) == 1


def test_admin_accounts(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        admins = keystore.admins(session)
        admin = admins.create("Boss@Bank.example", password="s3cret")
        admins.create("help@bank.example", role="helpdesk", password="pw")
        with pytest.raises(KeystoreError, match="already exists"):
            admins.create("boss@bank.example", password="x")
        with pytest.raises(ValueError):
            admins.create("x@bank.example", role="root", password="x")
        assert [a.email for a in admins.list()] == ["boss@bank.example", "help@bank.example"]
        assert admins.get("BOSS@bank.example") is admin
        assert admins.get_by_id(admin.id) is admin
        assert "s3cret" not in repr(admin) and "$argon2" not in repr(admin)
        assert admins.authenticate("boss@bank.example", "s3cret").admin is admin
        assert admins.authenticate("nobody@bank.example", "s3cret").outcome == "bad"
        admins.set_totp_secret(admin, "JBSWY3DPEHPK3PXP")
        admins.set_password(admin, "a new admin secret")
        admins.record_login(admin)
        assert admin.last_login_at == clock()
        admins.disable(admin)
        assert admins.authenticate("boss@bank.example", "a new admin secret").outcome == "inactive"
        admins.enable(admin)
        assert admins.authenticate("boss@bank.example", "a new admin secret").ok


def test_admin_lockout(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        admins = keystore.admins(session)
        admin = admins.create("boss@bank.example", password="right")
        for _ in range(5):
            assert admins.authenticate("boss@bank.example", "wrong").outcome == "bad"
        result = admins.authenticate("boss@bank.example", "right")
        assert result.outcome == "locked"
        assert result.locked_until == clock() + timedelta(minutes=15)
        admins.unlock(admin)
        assert admins.authenticate("boss@bank.example", "right").ok


def test_bad_admin_input_is_refused_with_what_is_allowed(keystore: Keystore) -> None:
    with keystore.session() as session:
        admins = keystore.admins(session)
        with pytest.raises(ValueError, match="use one of admin, helpdesk"):
            admins.create("x@bank.example", role="root", password="x")
        with pytest.raises(ValueError, match="password must not be empty"):
            admins.create("x@bank.example", password="")
        admin = admins.create("boss@bank.example", password="right")
        with pytest.raises(ValueError, match="password must not be empty"):
            admins.set_password(admin, "")
        assert admin.role == "admin"
        assert admins.authenticate("boss@bank.example", "right").ok
        assert [a.email for a in admins.list()] == ["boss@bank.example"]


def test_an_admin_keeps_the_chosen_language(keystore: Keystore) -> None:
    with keystore.session() as session:
        admins = keystore.admins(session)
        admin = admins.create("chef@bank.example", password="s3cret")
        assert admin.language is None
        admins.set_language(admin, "de")
        with pytest.raises(ValueError, match="unsupported language"):
            admins.set_language(admin, "fr")
    with keystore.session() as session:
        stored = keystore.admins(session).get("chef@bank.example")
        assert stored is not None and stored.language == "de"
        keystore.admins(session).set_language(stored, None)
    with keystore.session() as session:
        stored = keystore.admins(session).get("chef@bank.example")
        assert stored is not None and stored.language is None
