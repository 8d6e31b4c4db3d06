"""Withdrawal through the signed link in the confirmation mail, and what the recipient sees."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from keystore.models import AuditEvent
from tests.lifecycle.conftest import (
    ADVISER,
    CUSTOMER,
    PORTAL,
    SESSION_SECRET,
    FakeClock,
    body_of,
    mails_sent,
    notices,
    seal_message,
    update_settings,
)
from tests.portal.helpers import csrf_token
from tests.support.smtp import RecordingSink
from webcrypt.lifecycle.jobs import run_housekeeping
from webcrypt.lifecycle.withdrawal import inspect_withdrawal, make_token, read_token, withdraw
from webcrypt.runtime import Runtime

OTHER = "zweite@example.net"


def _offer_link(runtime: Runtime, sink: RecordingSink) -> str:
    update_settings(runtime, withdraw_link=True)
    seal_message(runtime, "m1@bank.example")
    seal_message(runtime, "m1@bank.example", to=OTHER)
    report = run_housekeeping(runtime)
    assert report.withdraw_offers == 1
    assert run_housekeeping(runtime).withdraw_offers == 0
    assert notices(sink.messages) == [("withdraw", ADVISER)]
    body = body_of(sink.messages[0])
    assert CUSTOMER in body and OTHER in body and "<m1@bank.example>" in body
    match = re.search(rf"{re.escape(PORTAL)}/withdraw/\S+", body)
    assert match
    return match.group(0)


def test_token_is_signed() -> None:
    token = make_token(SESSION_SECRET, "m1@bank.example", ADVISER)
    assert read_token(SESSION_SECRET, token) == ("m1@bank.example", ADVISER)
    assert read_token("another secret", token) is None
    payload, _, mac = token.partition(".")
    forged = make_token(SESSION_SECRET, "m2@bank.example", ADVISER).partition(".")[0]
    assert read_token(SESSION_SECRET, f"{forged}.{mac}") is None
    assert read_token(SESSION_SECRET, "garbage") is None
    assert read_token(SESSION_SECRET, payload + ".") is None


def test_withdraw_by_link(runtime: Runtime, clock: FakeClock, sink: RecordingSink) -> None:
    link = _offer_link(runtime, sink)
    token = link.rsplit("/", 1)[1]
    state = inspect_withdrawal(runtime, token)
    assert state.status == "ready" and state.recipients == (CUSTOMER, OTHER)
    assert withdraw(runtime, token, ip="192.0.2.1").status == "withdrawn"
    with runtime.keystore.session() as session:
        rows = runtime.keystore.ledger(session).find("m1@bank.example")
        assert [r.revoked_by for r in rows] == [ADVISER, ADVISER]
        assert all(r.revoked_at == clock() for r in rows)
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "message.withdraw"))
        assert [(e.actor, e.ip) for e in events] == [(ADVISER, "192.0.2.1")]
    assert withdraw(runtime, token).withdrawn_at == clock()  # idempotent

    # A withdrawn message gets no unread or expiry notices.
    clock.advance(days=28)
    assert mails_sent(run_housekeeping(runtime)) == 0


def test_link_after_expiry(runtime: Runtime, clock: FakeClock, sink: RecordingSink) -> None:
    token = _offer_link(runtime, sink).rsplit("/", 1)[1]
    clock.advance(days=31)
    assert withdraw(runtime, token).status == "expired"
    bogus = make_token(SESSION_SECRET, "unknown@bank.example", ADVISER)
    assert inspect_withdrawal(runtime, bogus).status == "invalid"
    other_adviser = make_token(SESSION_SECRET, "m1@bank.example", "someone@bank.example")
    assert inspect_withdrawal(runtime, other_adviser).status == "invalid"


def test_withdraw_page_and_recipient_view(
    runtime: Runtime, sink: RecordingSink, portal_client: Any
) -> None:
    path = _offer_link(runtime, sink).removeprefix(PORTAL)
    page = portal_client.get(path)
    assert page.status_code == 200 and b"Withdraw this message?" in page.data
    assert (
        inspect_withdrawal(runtime, path.rsplit("/", 1)[1]).status == "ready"
    )  # GET changes nothing
    done = portal_client.post(path, data={"csrf_token": csrf_token(page.data)})
    assert done.status_code == 200 and b"has been withdrawn" in done.data
    again = portal_client.post(path, data={"csrf_token": csrf_token(page.data)})
    assert b"already withdrawn" in again.data
    assert portal_client.get(path[:-3] + "abc").status_code == 404
