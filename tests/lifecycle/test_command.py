"""`webcrypt housekeeping` from the command line, and the scheduler inside `webcrypt serve`."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from keystore.clock import utcnow
from keystore.models import AdviserOption
from tests.lifecycle.conftest import ADVISER, FakeClock, notices, seal_message
from tests.support.cli import clean_workdir, run
from tests.support.components import free_port
from tests.support.smtp import RecordingSink
from webcrypt.cli.main import main
from webcrypt.lifecycle.jobs import Scheduler
from webcrypt.runtime import Runtime


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory with no WEBCRYPT_* settings from outside."""
    return clean_workdir(tmp_path, monkeypatch)


def test_housekeeping_command(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("init").exit_code == 0
    result = run("housekeeping")
    assert result.exit_code == 0, result.output
    assert "housekeeping done: nothing was due" in result.output
    assert run("housekeeping", "--quiet").output == ""

    result = run("housekeeping", "read-receipts", "Berater@Bank.example", "on")
    assert result.exit_code == 0, result.output
    from keystore.db import Keystore
    from keystore.masterkey import MasterKey

    keystore = Keystore(
        "sqlite:///var/keystore.db", master_key=MasterKey.load_file(workdir / "var/master.key")
    )
    with keystore.session() as session:
        rows = session.scalars(select(AdviserOption)).all()
        assert [(r.address, r.read_receipts) for r in rows] == [("berater@bank.example", True)]
    keystore.dispose()
    assert run("housekeeping", "read-receipts", "not an address", "on").exit_code == 2


def test_command_fails_when_the_relay_is_down(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    now = utcnow()  # the command runs on the real clock
    with runtime.keystore.session() as session:
        account, _pin = runtime.keystore.recipients(session).get_or_create(
            "kunde@example.net", created_by=ADVISER
        )
        runtime.keystore.ledger(session).record_sealed(
            message_id="m1@bank.example",
            recipient_id=account.id,
            sender=ADVISER,
            created=now - timedelta(days=11),
            expires=now + timedelta(days=19),
            key_version=1,
        )
    monkeypatch.setenv("WEBCRYPT_KEYSTORE_URL", str(runtime.config.keystore.url))
    monkeypatch.setenv("WEBCRYPT_KEYSTORE_MASTER_KEY", runtime.master_key.to_base64())
    monkeypatch.setenv("WEBCRYPT_PORTAL_RELAY", f"smtp://127.0.0.1:{free_port()}")  # nobody
    result = CliRunner().invoke(main, ["housekeeping"])
    assert result.exit_code == 1
    assert "problem: unread" in result.output


def test_scheduler_runs_until_stopped(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    seal_message(runtime, "m1@bank.example")
    clock.advance(days=10)
    scheduler = Scheduler(runtime, interval=0.05, first_delay=0)
    scheduler.start()
    deadline = time.monotonic() + 10
    while scheduler.runs < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    scheduler.stop()
    assert scheduler.runs >= 3
    assert scheduler.last_report is not None and scheduler.last_report.ok
    assert notices(sink.messages) == [("unread", ADVISER)]
    runs = scheduler.runs
    time.sleep(0.2)
    assert scheduler.runs == runs  # stopped for good
