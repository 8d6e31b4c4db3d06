"""`webcrypt admin create|list|disable|enable|reset-2fa` on a fresh data folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from tests.support.cli import clean_workdir, run


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory with an initialized data folder."""
    clean_workdir(tmp_path, monkeypatch)
    assert run("init").exit_code == 0
    return tmp_path


def keystore(workdir: Path) -> Keystore:
    key = MasterKey.load_file(workdir / "var" / "master.key")
    return Keystore("sqlite:///var/keystore.db", master_key=key)


def test_create_prints_a_one_time_password(workdir: Path) -> None:
    result = run("admin", "create", "Chef@Bank.Example")
    assert result.exit_code == 0, result.output
    assert "created admin account chef@bank.example" in result.output
    match = re.search(r"one-time password: (\S+)", result.output)
    assert match and len(match.group(1)) >= 20
    store = keystore(workdir)
    with store.session() as session:
        admins = store.admins(session)
        assert admins.authenticate("chef@bank.example", match.group(1)).ok
        assert admins.get("chef@bank.example").totp_secret is None
        events = store.audit(session).search(action="admin.create")
        assert [e.target for e in events] == ["chef@bank.example"]
    store.dispose()


def test_create_with_password_from_stdin(workdir: Path) -> None:
    result = run(
        "admin",
        "create",
        "hilfe@bank.example",
        "--role",
        "helpdesk",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "one-time password" not in result.output
    store = keystore(workdir)
    with store.session() as session:
        admin = store.admins(session).get("hilfe@bank.example")
        assert admin.role == "helpdesk"
        assert store.admins(session).authenticate("hilfe@bank.example", "a long enough password").ok
    store.dispose()


def test_create_refuses_a_short_password_and_duplicates(workdir: Path) -> None:
    short = run("admin", "create", "a@bank.example", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    assert run("admin", "create", "a@bank.example").exit_code == 0
    again = run("admin", "create", "A@bank.example")
    assert again.exit_code != 0
    assert "already exists" in again.output and "Traceback" not in again.output
    bad = run("admin", "create", "a@bank.example", "--role", "root")
    assert bad.exit_code != 0


def test_list_disable_enable_and_reset_2fa(workdir: Path) -> None:
    assert "no admin accounts" in run("admin", "list").output
    run("admin", "create", "chef@bank.example")
    run("admin", "create", "hilfe@bank.example", "--role", "helpdesk")
    listing = run("admin", "list").output.splitlines()
    assert listing[0].split()[:4] == ["chef@bank.example", "admin", "enabled", "2fa"]
    assert listing[1].split()[:3] == ["hilfe@bank.example", "helpdesk", "enabled"]
    assert run("admin", "disable", "hilfe@bank.example").exit_code == 0
    assert "disabled" in run("admin", "list").output.splitlines()[1]
    assert run("admin", "enable", "hilfe@bank.example").exit_code == 0
    store = keystore(workdir)
    with store.session() as session:
        store.admins(session).set_totp_secret(
            store.admins(session).get("chef@bank.example"), "A" * 32
        )
    assert run("admin", "reset-2fa", "chef@bank.example").exit_code == 0
    with store.session() as session:
        assert store.admins(session).get("chef@bank.example").totp_secret is None
        actions = [e.action for e in store.audit(session).search()]
        assert {"admin.disable", "admin.enable", "admin.reset-2fa"} <= set(actions)
    store.dispose()
    missing = run("admin", "disable", "nobody@bank.example")
    assert missing.exit_code != 0 and "no admin account for nobody@bank.example" in missing.output
