"""Settings that shape the notices, and what happens when the relay refuses."""

from __future__ import annotations

from collections import Counter

import pytest

from keystore.noticelog import NoticeService
from keystore.periodic import LifecycleService
from tests.lifecycle.conftest import (
    ADVISER,
    CUSTOMER,
    FakeClock,
    body_of,
    notices,
    seal_message,
    update_settings,
)
from tests.support.accounts import account_of
from tests.support.smtp import RecordingSink
from webcrypt.lifecycle.jobs import run_housekeeping
from webcrypt.runtime import Runtime


def _open(runtime: Runtime, message_id: str, address: str = CUSTOMER) -> None:
    with runtime.keystore.session() as session:
        account = runtime.keystore.recipients(session).get(address)
        assert account is not None
        assert runtime.keystore.ledger(session).mark_opened(message_id, account.id)


def test_temporary_relay_failure_is_retried_next_run(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    seal_message(runtime, "m1@bank.example")
    clock.advance(days=10)
    sink.refuse("451 4.3.0 try again later")
    report = run_housekeeping(runtime)
    assert not report.ok and report.unread_notices == 0
    assert "try again later" in report.failures[0]
    assert sink.messages == []
    sink.accept()
    report = run_housekeeping(runtime)
    assert report.ok and report.unread_notices == 1
    assert run_housekeeping(runtime).unread_notices == 0
    assert notices(sink.messages) == [("unread", ADVISER)]


def test_permanent_refusal_is_not_retried(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    seal_message(runtime, "m1@bank.example")
    clock.advance(days=10)
    sink.refuse("550 5.1.1 no such user", at="RCPT")
    report = run_housekeeping(runtime)
    assert not report.ok
    sink.accept()
    assert run_housekeeping(runtime).ok
    assert sink.messages == []


def test_expiry_notice_modes(runtime: Runtime, clock: FakeClock, sink: RecordingSink) -> None:
    update_settings(runtime, expiry_notice_mode="unread", unread_notice_days=0)
    seal_message(runtime, "read@bank.example")
    seal_message(runtime, "unread@bank.example")
    _open(runtime, "read@bank.example")
    clock.advance(days=27)
    assert run_housekeeping(runtime).expiry_notices == 1
    assert "You have not opened it yet" in body_of(sink.messages[0])

    update_settings(runtime, expiry_notice_mode="never")
    seal_message(runtime, "later@bank.example")
    clock.advance(days=27)
    assert run_housekeeping(runtime).expiry_notices == 0

    update_settings(runtime, expiry_notice_mode="all")
    assert run_housekeeping(runtime).expiry_notices == 1
    assert notices(sink.messages) == [("expiry", CUSTOMER)] * 2


def test_recipient_language_and_branding(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    update_settings(
        runtime,
        product_name="Sichere Post",
        contact_de="Fragen: 0800 123 456",
        unread_notice_days=0,
    )
    seal_message(runtime, "m1@bank.example")
    with account_of(runtime.keystore, CUSTOMER) as (recipients, account):
        recipients.set_language(account, "de")
    clock.advance(days=27)
    run_housekeeping(runtime)
    mail = sink.messages[0].parsed()
    assert str(mail["Subject"]).startswith("Sichere Post: eine sichere Nachricht an Sie")
    assert "Sichere Post" in str(mail["From"]) and "@bank.example" in str(mail["From"])
    assert "Fragen: 0800 123 456" in body_of(sink.messages[0])
    assert mail["Auto-Submitted"] == "auto-generated"


def test_read_receipts_global_per_recipient_and_per_adviser(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    other_adviser = "chefin@bank.example"
    seal_message(runtime, "off@bank.example")
    seal_message(runtime, "adviser@bank.example", sender=other_adviser)
    seal_message(runtime, "account@bank.example", to="vip@example.net")
    with runtime.keystore.session() as session:
        LifecycleService(session, clock=clock).set_adviser_read_receipts(
            other_adviser, True, actor="admin@bank.example"
        )
        recipients = runtime.keystore.recipients(session)
        vip = recipients.get("vip@example.net")
        assert vip is not None
        recipients.set_read_receipts(vip, True)
    clock.advance(hours=2)
    for message_id in ("off@bank.example", "adviser@bank.example"):
        _open(runtime, message_id)
    _open(runtime, "account@bank.example", "vip@example.net")
    clock.advance(hours=1)
    assert run_housekeeping(runtime).read_receipts == 2
    assert Counter(notices(sink.messages)) == {
        ("receipt", other_adviser): 1,
        ("receipt", ADVISER): 1,
    }
    receipt = next(m for m in sink.messages if "vip@example.net" in body_of(m))
    assert "<account@bank.example>" in body_of(receipt)

    update_settings(runtime, read_receipts=True)
    assert run_housekeeping(runtime).read_receipts == 1  # the remaining one, once
    assert run_housekeeping(runtime).read_receipts == 0


def test_deactivated_account_is_deleted_without_notice(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    update_settings(runtime, unread_notice_days=0, expiry_notice_mode="never")
    seal_message(runtime, "m1@bank.example")
    with account_of(runtime.keystore, CUSTOMER) as (recipients, account):
        recipients.set_status(account, "deactivated")
    clock.advance(days=395, seconds=1)
    report = run_housekeeping(runtime)
    assert report.accounts_deleted == 1 and report.inactivity_notices == 0
    assert sink.messages == []


def test_late_notice_postpones_deletion(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    """Housekeeping that was off for long still gives the full notice period."""
    update_settings(runtime, unread_notice_days=0, expiry_notice_mode="never")
    seal_message(runtime, "m1@bank.example")
    clock.advance(days=500)
    report = run_housekeeping(runtime)
    assert report.inactivity_notices == 1 and report.accounts_deleted == 0
    clock.advance(days=29)
    assert run_housekeeping(runtime).accounts_deleted == 0
    clock.advance(days=1)
    assert run_housekeeping(runtime).accounts_deleted == 1
    assert notices(sink.messages) == [("inactivity", CUSTOMER)]


def test_many_accounts_are_handled_page_by_page(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webcrypt.lifecycle import accounts

    monkeypatch.setattr(accounts, "BATCH", 2)
    update_settings(runtime, unread_notice_days=0, expiry_notice_mode="never")
    addresses = [f"kunde{i}@example.net" for i in range(5)]
    for number, address in enumerate(addresses):
        seal_message(runtime, f"m{number}@bank.example", to=address)
    clock.advance(days=366)
    assert run_housekeeping(runtime).inactivity_notices == 5
    clock.advance(days=30)
    assert run_housekeeping(runtime).accounts_deleted == 5
    assert sorted(to for _kind, to in notices(sink.messages)) == addresses


def test_a_claimed_notice_is_not_sent_again(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    """At most once: a run that died after claiming leaves the notice unsent for good."""
    from webcrypt.lifecycle.sending import message_key

    sealed = seal_message(runtime, "m1@bank.example")
    clock.advance(days=10)
    with runtime.keystore.session() as session:
        key = message_key(sealed.message_id, sealed.recipient_id)
        assert NoticeService(session, clock=clock).record("unread", key)
    assert run_housekeeping(runtime).unread_notices == 0
    assert sink.messages == []
