"""The `webcrypt` command: init, config, keys and inspect on a fresh data folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from tests.support.accounts import account_of
from tests.support.cli import clean_workdir, run
from webcrypt.cli.main import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory with no WEBCRYPT_* settings from outside."""
    return clean_workdir(tmp_path, monkeypatch)


def test_init_creates_data_folder_keys_and_schema(workdir: Path) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    var = workdir / "var"
    assert stat.S_IMODE((var / "master.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((var / "session.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert (var / "outbox").is_dir()
    keystore = Keystore(
        "sqlite:///var/keystore.db", master_key=MasterKey.load_file(var / "master.key")
    )
    assert keystore.is_current()
    keystore.dispose()

    key_before = (var / "master.key").read_bytes()
    again = run("init")
    assert again.exit_code == 0
    assert "created" not in again.output
    assert (var / "master.key").read_bytes() == key_before


def test_master_key_readable_by_others_is_refused(workdir: Path) -> None:
    run("init")
    (workdir / "var" / "master.key").chmod(0o644)
    result = run("init")
    assert result.exit_code != 0
    assert "chmod 600" in result.output
    assert "Traceback" not in result.output


def test_corrupted_master_key_is_refused(workdir: Path) -> None:
    run("init")
    (workdir / "var" / "master.key").write_text("not a key at all\n")
    result = run("init")
    assert result.exit_code != 0
    assert "master key" in result.output and "backup" in result.output


def test_wrong_configuration_stops_with_the_key_named(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBCRYPT_FILTER_PROTOCOL", "x400")
    result = run("init")
    assert result.exit_code != 0
    assert "filter.protocol" in result.output and "smtp or lmtp" in result.output
    assert not (workdir / "var").exists()


def test_config_prints_effective_values_masked(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBCRYPT_KEYSTORE_URL", "postgresql+psycopg://wc:pa55word@db/wc")
    result = run("config")
    assert result.exit_code == 0
    assert "keystore.url = postgresql+psycopg://wc:****@db/wc" in result.output
    assert "# from WEBCRYPT_KEYSTORE_URL" in result.output
    assert "pa55word" not in result.output


def test_keys_rotate_and_rotate_master(workdir: Path) -> None:
    run("init")
    var = workdir / "var"
    old_master = MasterKey.load_file(var / "master.key")
    keystore = Keystore("sqlite:///var/keystore.db", master_key=old_master)
    with keystore.session() as session:
        recipient, _pin = keystore.recipients(session).get_or_create(
            "Kunde@Example.COM", created_by="adviser@localhost"
        )
        first = keystore.recipients(session).current_key(recipient)
    keystore.dispose()

    result = run("keys", "rotate", "kunde@example.com")
    assert result.exit_code == 0, result.output
    assert "new key version 2" in result.output
    assert run("keys", "rotate", "nobody@example.com").exit_code != 0
    assert run("keys", "rotate").exit_code == 2

    result = run("keys", "rotate-master")
    assert result.exit_code == 0, result.output
    new_master = MasterKey.load_file(var / "master.key")
    assert new_master != old_master
    assert MasterKey.load_file(var / "master.key.old") == old_master
    keystore = Keystore("sqlite:///var/keystore.db", master_key=new_master)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        assert recipients.key(first.recipient_id, first.version) == first.key
        assert recipients.current_key(recipients.get("kunde@example.com")).version == 2  # type: ignore[arg-type]
    keystore.dispose()


def test_inspect_rejects_files_that_are_not_envelopes(workdir: Path) -> None:
    page = workdir / "page.htm"
    page.write_text("<html><body>Hello</body></html>")
    result = run("inspect", str(page))
    assert result.exit_code != 0
    assert "page.htm" in result.output
    assert "Traceback" not in result.output


def test_inspect_prints_the_header_without_a_key(workdir: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from webcrypt.envelope import RecipientKey, seal
    from webcrypt.sealing.securehtm import render_secure_htm

    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    sealed = seal(
        b"Subject: secret\r\n\r\nbody\r\n",
        [RecipientKey("kunde@example.com", "k-1f2e", 3, bytes(32))],
        sender="adviser@bank.example",
        message_id="<m1@bank.example>",
        portal_url="https://secure.bank.example",
        expires=now + timedelta(days=30),
        now=now,
    )
    header = sealed.headers["kunde@example.com"]
    page = workdir / "secure.htm"
    page.write_text(render_secure_htm(sealed.armored("kunde@example.com"), header))
    result = run("inspect", str(page))
    assert result.exit_code == 0, result.output
    for expected in (
        "kunde@example.com",
        "adviser@bank.example",
        "<m1@bank.example>",
        "k-1f2e version 3",
        "2026-12-23T09:30:00+00:00",
        "https://secure.bank.example",
    ):
        assert expected in result.output
    assert "secret" not in result.output


MAIL = (
    "From: billing@bank.example\r\nTo: kunde@example.com\r\nSubject: Rechnung 2026-11\r\n"
    "Message-ID: <inv-1@bank.example>\r\n\r\nIhre Rechnung: 42,00 EUR\r\n"
)


def test_seal_creates_account_prints_pin_once_and_opens(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webcrypt.envelope import open as open_envelope
    from webcrypt.envelope import parse
    from webcrypt.sealing.securehtm import extract_envelope

    monkeypatch.setenv("WEBCRYPT_FILTER_INTERNAL_DOMAINS", "bank.example")
    run("init")
    (workdir / "mail.eml").write_text(MAIL)
    runner = CliRunner()
    first = runner.invoke(main, ["seal", "--to", "Kunde@Example.com", "-o", "a.htm", "mail.eml"])
    assert first.exit_code == 0, first.output
    assert "one-time PIN" in first.stderr
    assert "never by mail" in first.stderr
    second = runner.invoke(main, ["seal", "--to", "kunde@example.com", "-"], input=MAIL)
    assert second.exit_code == 0, second.output
    assert "PIN" not in second.stderr
    assert "<html" in second.stdout.lower() and "42,00" not in second.stdout

    page = (workdir / "a.htm").read_bytes()
    assert max(page) < 128
    found = parse(extract_envelope(page))
    assert found.header.recipient == "kunde@example.com"
    assert found.header.sender == "noreply@bank.example"
    keystore = Keystore(
        "sqlite:///var/keystore.db", master_key=MasterKey.load_file(workdir / "var" / "master.key")
    )
    with account_of(keystore, "kunde@example.com") as (recipients, account):
        key = recipients.key(account.id, found.header.key_version)
        assert key is not None
        assert open_envelope(found, key) == MAIL.encode()
        # sealing the same message again for the same recipient is one ledger entry
        assert len(keystore.ledger(recipients.session).find("inv-1@bank.example")) == 1
    keystore.dispose()


@pytest.mark.parametrize(
    ("to", "mail", "says"),
    [
        ("colleague@bank.example", MAIL, "internal address"),
        ("kunde@example.com", "  \n", "empty"),
        ("not an address", MAIL, "not an address"),
    ],
)
def test_seal_refuses_with_a_clear_reason(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, to: str, mail: str, says: str
) -> None:
    monkeypatch.setenv("WEBCRYPT_FILTER_INTERNAL_DOMAINS", "bank.example")
    run("init")
    result = CliRunner().invoke(main, ["seal", "--to", to, "-"], input=mail)
    assert result.exit_code == 1
    assert says in result.output
    assert "Traceback" not in result.output
