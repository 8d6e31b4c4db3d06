"""Fixtures of the lifecycle tests: a runtime whose portal relay is a recording SMTP sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from keystore.masterkey import MasterKey
from keystore.models import Base
from keystore.passwords import Hasher, make_context
from tests.support.keystores import migrated_sqlite
from tests.support.smtp import Received, RecordingSink
from webcrypt import envelope
from webcrypt.config import load_config
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
    config = load_config(
        environ={
            "WEBCRYPT_KEYSTORE_URL": url,
            "WEBCRYPT_KEYSTORE_MASTER_KEY_FILE": str(tmp_path / "master.key"),
            "WEBCRYPT_PORTAL_SECRET_KEY_FILE": str(secret),
            "WEBCRYPT_FILTER_RELAY": f"outbox:{tmp_path / 'outbox'}",
            "WEBCRYPT_PORTAL_RELAY": sink.url,
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
            "WEBCRYPT_PORTAL_PUBLIC_URL": PORTAL,
        }
    )
    # Settings are cached for the whole test and refreshed by `update_settings`: a portal
    # request must not have to read them while it holds the SQLite write lock.
    runtime = Runtime(config, clock=clock, master_key=MasterKey.generate(), settings_ttl=3600)
    runtime.keystore.hasher = Hasher(make_context(memory_kib=1024, time_cost=1, parallelism=1))
    runtime.keystore.upgrade()
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


@dataclass
class Sealed:
    """A message sealed like the filter does: envelope text, header, ledger row."""

    armored: str
    header: envelope.Header
    recipient_id: int
    message_id: str
    pin: str | None = None


def seal_message(
    runtime: Runtime,
    message_id: str,
    *,
    to: str = CUSTOMER,
    sender: str = ADVISER,
    body: bytes = b"Subject: Vertrag\r\n\r\nStrictly confidential.\r\n",
) -> Sealed:
    """Create the account if needed, seal with its current key and record the ledger."""
    now = runtime.clock()
    keystore = runtime.keystore
    expires = now + timedelta(days=runtime.settings().message_expiry_days)
    with keystore.session() as session:
        recipients = keystore.recipients(session)
        recipient, pin = recipients.get_or_create(to, created_by=sender)
        material = recipients.current_key(recipient)
        key = envelope.RecipientKey(
            address=recipient.address,
            key_id=material.key_id,
            key_version=material.version,
            key=material.key,
        )
        sealed = envelope.seal(
            body,
            [key],
            sender=sender,
            message_id=message_id,
            portal_url=PORTAL,
            expires=expires,
            now=now,
        )
        keystore.ledger(session).record_sealed(
            message_id=message_id,
            recipient_id=recipient.id,
            sender=sender,
            created=now,
            expires=expires,
            key_version=material.version,
        )
        armored = sealed.armored(recipient.address)
        header = sealed.headers[recipient.address]
        return Sealed(armored, header, recipient.id, message_id, pin)


@pytest.fixture
def portal_client(runtime: Runtime) -> Any:
    """A test client of the portal around `runtime`."""
    from portal import create_app

    return create_app(runtime, {"SECRET_KEY": "test-secret", "TESTING": True}).test_client()


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
