"""Ledger rows and notices past the retention period are purged; other notices stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from keystore.models import Notice
from keystore.noticelog import NoticeService
from keystore.relayed import record_relayed, relayed_parts
from tests.lifecycle.conftest import FakeClock, seal_message, update_settings
from tests.support.smtp import RecordingSink
from webcrypt.lifecycle.jobs import Report, run_housekeeping
from webcrypt.runtime import Runtime


def _kinds(runtime: Runtime) -> list[str]:
    with runtime.keystore.session() as session:
        return sorted(session.scalars(select(Notice.kind)))


def test_ledger_and_notices_are_purged_after_retention(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    update_settings(runtime, ledger_retention_days=40)
    sealed = seal_message(runtime, "m1@bank.example")
    with runtime.keystore.session() as session:  # as the filter records the PIN mail
        NoticeService(session, clock=clock).record(
            "pin", str(sealed.recipient_id), recipient_id=sealed.recipient_id
        )
    start = clock()

    def at(days: int, seconds: int = 0) -> Report:
        clock.now = start + timedelta(days=days, seconds=seconds)
        return run_housekeeping(runtime)

    assert at(10).unread_notices == 1
    assert at(27).expiry_notices == 1
    assert _kinds(runtime) == ["expiry", "pin", "unread"]

    assert at(40).ledger_purged == 0  # not older than 40 days yet
    report = at(40, seconds=1)
    assert report.ledger_purged == 1 and report.notices_purged == 0
    with runtime.keystore.session() as session:
        assert runtime.keystore.ledger(session).find("m1@bank.example") == []

    assert at(50, seconds=1).notices_purged == 1  # the unread notice of day 10
    assert at(67, seconds=1).notices_purged == 1  # the expiry notice of day 27
    assert _kinds(runtime) == ["pin"]
    assert len(sink.messages) == 2


def test_relay_records_are_forgotten_after_the_queue_lifetime(
    runtime: Runtime, clock: FakeClock
) -> None:
    start = clock()
    with runtime.keystore.driver_transaction() as transaction:
        record_relayed(transaction, "a" * 64, ["1" * 32], start)
    clock.now = start + timedelta(days=5)
    assert run_housekeeping(runtime).relay_records_purged == 0  # Postfix may still retry
    with runtime.keystore.driver_transaction() as transaction:
        assert relayed_parts(transaction, "a" * 64) == {"1" * 32}
    clock.now = start + timedelta(days=5, seconds=1)
    assert run_housekeeping(runtime).relay_records_purged == 1
    with runtime.keystore.driver_transaction() as transaction:
        assert relayed_parts(transaction, "a" * 64) == set()
