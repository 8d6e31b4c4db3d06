"""An adviser's answer to a mail the customer sent from the portal is sealed without a trigger.

Through the real filter on loopback into the recording sink.
"""

from __future__ import annotations

import smtplib
import time

import pytest

from keystore.db import Keystore
from tests.filter.conftest import ADVISER
from tests.filter.helpers import carriers, open_carrier, rfc5322

CUSTOMER = "c@cust.example"
PORTAL_ID = "r1.abc@portal.bank.example"


def first_message() -> bytes:
    return rfc5322(
        f"From: {ADVISER}\nTo: {CUSTOMER}\nSubject: WebCrypt your contract\n"
        "Message-ID: <m0@bank.example>\n\nThe contract.\n"
    )


def answer(thread: str) -> bytes:
    return rfc5322(
        f"From: Ann Adviser <{ADVISER}>\n"
        f"To: {CUSTOMER}\n"
        "Subject: Re: my question about the contract\n"
        "Message-ID: <a1@bank.example>\n"
        f"{thread}\n"
        "\n"
        "Your balance is 12345.\n"
    )


def customer_wrote_from_the_portal(harness) -> None:  # type: ignore[no-untyped-def]
    harness.send(first_message(), to=[CUSTOMER])
    harness.sink.wait_for(2)
    harness.sink.clear()
    keystore = harness.runtime.keystore
    with keystore.session() as session:
        account = keystore.recipients(session).get(CUSTOMER)
        keystore.ledger(session).record_portal_message(f"<{PORTAL_ID}>", account.id)


def test_an_answer_to_a_portal_mail_is_sealed_without_the_trigger_word(harness):
    customer_wrote_from_the_portal(harness)
    harness.send(answer(f"In-Reply-To: <{PORTAL_ID}>\nReferences: <{PORTAL_ID}>"), to=[CUSTOMER])
    (carrier,) = carriers(harness.sink.wait_for(1))
    assert b"12345" not in carrier.data
    parsed = carrier.parsed()
    assert parsed["X-WebCrypt-Trigger"] == "thread"
    assert parsed["In-Reply-To"] == f"<{PORTAL_ID}>"
    note = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "sealed automatically" in note
    assert b"Your balance is 12345." in open_carrier(harness.runtime, carrier)
    with harness.runtime.keystore.session() as session:
        events = harness.runtime.keystore.audit(session).search(action="filter.thread_sealed")
    (event,) = events
    assert (event.actor, event.target) == (ADVISER, CUSTOMER)
    assert "<a1@bank.example>" in event.detail


def test_switched_off_or_unrelated_the_answer_leaves_byte_identical(harness):
    customer_wrote_from_the_portal(harness)
    unrelated = answer("In-Reply-To: <somewhere@else.example>")
    harness.send(unrelated, to=[CUSTOMER])
    (plain,) = harness.sink.wait_for(1)
    assert plain.data == unrelated
    harness.sink.clear()
    harness.settings(thread_trigger=False)
    related = answer(f"In-Reply-To: <{PORTAL_ID}>")
    harness.send(related, to=[CUSTOMER])
    (plain,) = harness.sink.wait_for(1)
    assert plain.data == related


def test_an_answer_is_deferred_while_the_keystore_cannot_be_asked(harness, tmp_path):
    customer_wrote_from_the_portal(harness)
    harness.runtime.keystore = Keystore(
        f"sqlite:///{tmp_path}/missing/dir/keystore.db", master_key=harness.runtime.master_key
    )
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(answer(f"In-Reply-To: <{PORTAL_ID}>"), to=[CUSTOMER])
    assert caught.value.smtp_code // 100 == 4
    time.sleep(0.2)
    assert harness.sink.messages == []
