"""Housekeeping and the secure mailbox: expiry, withdrawal and account deletion take the
stored envelope with them (crypto-shredding), and two instances delete each message once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from keystore.mailbox import new_entry_id
from keystore.models import MailboxChunk, MailboxMessage
from tests.lifecycle.conftest import (
    ADVISER,
    CUSTOMER,
    PORTAL,
    FakeClock,
    body_of,
    make_runtime,
    seal_message,
    update_settings,
)
from tests.support.smtp import RecordingSink
from tests.support.threads import run_at_once
from webcrypt.lifecycle.jobs import Report, run_housekeeping
from webcrypt.lifecycle.withdrawal import withdraw, withdraw_url
from webcrypt.runtime import Runtime


def store(runtime: Runtime, message_id: str, *, to: str = CUSTOMER, pad: int = 0) -> str:
    """Seal a message as the filter does and keep it in the recipient's mailbox."""
    sealed = seal_message(runtime, message_id, to=to)
    with runtime.keystore.session() as session:
        entry = runtime.keystore.mailbox(session).store(
            sealed.recipient_id,
            new_entry_id(),
            message_id=message_id,
            key_version=sealed.header.key_version,
            envelope=sealed.armored.encode("ascii") + b"\n" * pad,
            summary=b"sealed summary",
            expires_at=sealed.header.expires,
        )
    return entry.id


def rows(runtime: Runtime) -> tuple[int, int]:
    with runtime.keystore.session() as session:
        messages = session.scalar(select(func.count()).select_from(MailboxMessage))
        chunks = session.scalar(select(func.count()).select_from(MailboxChunk))
    return int(messages or 0), int(chunks or 0)


def key_of(runtime: Runtime, address: str, version: int) -> bytes | None:
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        account = recipients.get(address)
        assert account is not None
        return recipients.key(account.id, version)


def test_expiry_deletes_the_blob_and_then_the_key(runtime: Runtime, clock: FakeClock) -> None:
    store(runtime, "m1@bank.example", pad=600_000)
    assert rows(runtime) == (1, 3)
    clock.advance(days=29, hours=23)
    assert run_housekeeping(runtime).mailbox_expired == 0
    clock.advance(hours=1)
    report = run_housekeeping(runtime)
    assert report.ok and report.mailbox_expired == 1
    assert rows(runtime) == (0, 0)
    clock.advance(days=1, seconds=1)
    assert run_housekeeping(runtime).keys_rotated == 1  # the newest version is never shred
    clock.advance(days=1, seconds=1)
    report = run_housekeeping(runtime)
    assert report.key_versions_destroyed == 1
    assert key_of(runtime, CUSTOMER, 1) is None
    assert run_housekeeping(runtime).mailbox_expired == 0


def test_the_expiry_notice_links_to_the_mailbox(runtime: Runtime, clock: FakeClock, sink) -> None:
    entry_id = store(runtime, "m1@bank.example")
    clock.advance(days=27, minutes=1)
    report = run_housekeeping(runtime)
    assert report.expiry_notices == 1
    (mail,) = [m for m in sink.messages if m.rcpt_tos == [CUSTOMER]]
    text = body_of(mail)
    assert f"{PORTAL}/inbox/{entry_id}" in text and "secure.htm" not in text


def test_reading_in_the_mailbox_counts_as_opened(runtime: Runtime, clock: FakeClock, sink) -> None:
    entry_id = store(runtime, "m1@bank.example")
    store(runtime, "m2@bank.example")
    with runtime.keystore.session() as session:
        account = runtime.keystore.recipients(session).get(CUSTOMER)
        assert account is not None
        assert runtime.keystore.mailbox(session).mark_read(account.id, entry_id)
        assert runtime.keystore.ledger(session).get("m1@bank.example", account.id).first_opened_at
    clock.advance(days=10, minutes=1)
    assert run_housekeeping(runtime).unread_notices == 1


def test_withdrawal_deletes_the_stored_copies(runtime: Runtime) -> None:
    store(runtime, "m1@bank.example")
    store(runtime, "m1@bank.example", to="other@example.net")
    store(runtime, "m2@bank.example")
    update_settings(runtime, withdraw_link=True)
    token = withdraw_url(runtime, "m1@bank.example", ADVISER).rsplit("/", 1)[1]
    withdraw(runtime, token)
    with runtime.keystore.session() as session:
        left = session.scalars(select(MailboxMessage.message_id)).all()
    assert left == ["m2@bank.example"]


def test_deleting_an_unused_account_deletes_its_mailbox(runtime: Runtime, clock: FakeClock) -> None:
    update_settings(runtime, message_expiry_days=500, ledger_retention_days=500)
    store(runtime, "m1@bank.example")
    clock.advance(days=366)
    assert run_housekeeping(runtime).inactivity_notices == 1
    assert rows(runtime)[0] == 1
    clock.advance(days=30)
    assert run_housekeeping(runtime).accounts_deleted == 1
    assert rows(runtime) == (0, 0)


@pytest.fixture
def second(
    any_runtime: Runtime, keystore_url: str, tmp_path: Path, clock: FakeClock, sink: RecordingSink
) -> Iterator[Runtime]:
    """A second instance on the database of `any_runtime`."""
    built = make_runtime(keystore_url, tmp_path, clock, sink)
    try:
        yield built
    finally:
        built.close()


def test_two_instances_delete_each_expired_message_once(
    any_runtime: Runtime, second: Runtime, clock: FakeClock
) -> None:
    customers = [f"kunde{i}@example.net" for i in range(5)]
    for number in range(130):
        store(any_runtime, f"m{number}@bank.example", to=customers[number % 5])
    clock.advance(days=30)
    barrier = threading.Barrier(2)
    reports: list[Report] = []

    def run(runtime: Runtime) -> None:
        barrier.wait()
        reports.append(run_housekeeping(runtime, use_lease=False))

    run_at_once([lambda: run(any_runtime), lambda: run(second)], timeout=120)
    assert len(reports) == 2 and all(r.ok for r in reports), [r.failures for r in reports]
    assert sum(r.mailbox_expired for r in reports) == 130
    assert rows(any_runtime) == (0, 0)


def test_with_the_lease_one_instance_does_the_work(
    any_runtime: Runtime, second: Runtime, clock: FakeClock
) -> None:
    for number in range(20):
        store(any_runtime, f"m{number}@bank.example")
    clock.advance(days=30, seconds=1)
    reports: list[Report] = []
    run_at_once(
        [
            lambda: reports.append(run_housekeeping(any_runtime)),
            lambda: reports.append(run_housekeeping(second)),
        ],
        timeout=120,
    )
    assert sum(r.mailbox_expired for r in reports) == 20
    assert rows(any_runtime) == (0, 0)
