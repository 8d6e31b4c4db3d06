"""Fixtures of the lifecycle tests: a runtime whose portal relay is a recording SMTP sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from keystore.models import Base
from tests.support.apps import portal_app
from tests.support.keystores import migrated_sqlite
from tests.support.runtime import Sealed, build_runtime, folder_environ, seal_for
from tests.support.smtp import Received, RecordingSink
from webcrypt.lifecycle.jobs import Report
from webcrypt.runtime import Runtime

ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.net"
PORTAL = "https://secure.bank.example"
SESSION_SECRET = "lifecycle-test-session-secret"


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    """A settable clock."""
    return FakeClock()


@pytest.fixture
def sink() -> Iterator[RecordingSink]:
    """A recording SMTP server on loopback: the portal relay of the runtime."""
    with RecordingSink() as server:
        yield server


def make_runtime(url: str, tmp_path: Path, clock: Any, sink: RecordingSink) -> Runtime:
    """Build a runtime on `url` whose portal mail goes to `sink`."""
    secret = tmp_path / "session.key"
    if not secret.exists():
        secret.write_text(SESSION_SECRET)
        os.chmod(secret, 0o600)
    environ = folder_environ(
        tmp_path,
        WEBCRYPT_KEYSTORE_URL=url,
        WEBCRYPT_PORTAL_RELAY=sink.url,
        WEBCRYPT_PORTAL_PUBLIC_URL=PORTAL,
    )
    # Settings are cached for the whole test and refreshed by `update_settings`: a portal
    # request must not have to read them while it holds the SQLite write lock.
    runtime = build_runtime(environ, clock=clock, settings_ttl=3600)
    runtime.settings()
    return runtime


@pytest.fixture
def runtime(tmp_path: Path, clock: FakeClock, sink: RecordingSink) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite keystore."""
    built = make_runtime(migrated_sqlite(tmp_path / "keystore.db"), tmp_path, clock, sink)
    yield built
    built.close()


@pytest.fixture
def any_runtime(
    keystore_url: str, tmp_path: Path, clock: FakeClock, sink: RecordingSink
) -> Iterator[Runtime]:
    """A runtime on each database backend; every table is emptied afterwards."""
    built = make_runtime(keystore_url, tmp_path, clock, sink)
    try:
        yield built
    finally:
        with built.keystore.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
        built.close()


def update_settings(runtime: Runtime, **changes: Any) -> None:
    """Change admin settings and make the runtime read them again."""
    with runtime.keystore.session() as session:
        runtime.keystore.settings(session).update(changes, actor="test")
    runtime.refresh_settings()


def seal_message(
    runtime: Runtime,
    message_id: str,
    *,
    to: str = CUSTOMER,
    sender: str = ADVISER,
    body: bytes = b"Subject: Vertrag\r\n\r\nStrictly confidential.\r\n",
) -> Sealed:
    """Create the account if needed, seal with its current key and record the ledger."""
    days = runtime.settings().message_expiry_days
    return seal_for(runtime, body, to=to, sender=sender, days=days, message_id=message_id)


@pytest.fixture
def portal_client(runtime: Runtime) -> Any:
    """A test client of the portal around `runtime`."""
    return portal_app(runtime, {"SECRET_KEY": "test-secret", "TESTING": True}).test_client()


NOTICE_COUNTS = (
    "unread_notices",
    "read_receipts",
    "withdraw_offers",
    "expiry_notices",
    "inactivity_notices",
)
"""The numbers of a housekeeping report that count notice mails sent."""


def mails_sent(report: Report) -> int:
    """Return how many notice mails a housekeeping run reports it sent."""
    return sum(report.counts()[name] for name in NOTICE_COUNTS)


def notices(messages: list[Received]) -> list[tuple[str, str]]:
    """Return (notice kind, recipient) of each mail, in arrival order."""
    out = []
    for received in messages:
        parsed = received.parsed()
        out.append((str(parsed["X-WebCrypt-Notice"]), ",".join(received.rcpt_tos)))
    return out


def body_of(received: Received) -> str:
    """Return the plain-text body of a notice mail."""
    part = received.parsed().get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
