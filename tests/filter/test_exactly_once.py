"""Exactly once: a retried transaction leaves out every mail the relay took before.

A filter killed after the relay accepted a mail and before its 250 reached the MTA is
shown here by running the delivery without answering (`Delivery.process`, as the crashed
process did); the retry then comes over SMTP as the MTA sends it. The whole path with a
real Postfix and SIGKILL is in tests/e2e/test_exactly_once.py.
"""

from __future__ import annotations

import smtplib
import time

import pytest

from keystore.relayed import relayed_parts
from tests.filter.conftest import ADVISER
from tests.filter.helpers import carriers, lmtp_transaction, rfc5322
from webcrypt.smtp.delivery import transaction_digest

SECRET = "Confidential figures: 1, 2, 3."


def offer(to: str, number: int = 1) -> bytes:
    return rfc5322(
        f"From: {ADVISER}\nTo: {to}\nSubject: WebCrypt offer\n"
        f"Message-ID: <once{number}@bank.example>\n\n{SECRET}\n"
    )


PLAIN = rfc5322(
    f"From: {ADVISER}\nTo: b@bank.example\nSubject: lunch\nMessage-ID: <l@bank.example>\n\nHi\n"
)


def settle(harness, count: int) -> list:
    received = harness.sink.wait_for(count)
    time.sleep(0.3)  # a duplicate would arrive right behind
    assert len(harness.sink.messages) == count
    return received


@pytest.mark.parametrize(
    ("data", "to"),
    [(offer("c@cust.example"), "c@cust.example"), (PLAIN, "b@bank.example")],
    ids=["sealed", "passed-on"],
)
def test_retry_after_a_lost_answer_relays_nothing_again(harness, data, to):
    harness.send(offer("c@cust.example", 0), to=["c@cust.example"])  # account and PIN
    harness.sink.wait_for(2)
    harness.sink.clear()
    outcomes, _ = harness.server.delivery.process(data, ADVISER, [to], trusted=True)
    assert [o.result for o in outcomes] == ["delivered"]
    settle(harness, 1)
    harness.send(data, to=[to])  # the MTA's retry: 250 without relaying
    settle(harness, 1)


def test_the_same_mail_sent_again_after_its_answer_is_new_mail(harness):
    harness.send(PLAIN, to=["b@bank.example"])
    harness.send(PLAIN, to=["b@bank.example"])
    received = settle(harness, 2)
    assert [r.data for r in received] == [received[0].data] * 2


def known_pair(harness, first: str, second: str) -> bytes:
    """Make both customers known (their first mails and PIN notices relayed and cleared);
    return one offer to both."""
    for customer in (first, second):
        harness.send(offer(customer, 0), to=[customer])
    harness.sink.wait_for(4)
    harness.sink.clear()
    return offer(f"{first}, {second}")


def test_a_partly_relayed_message_sends_only_the_rest_on_retry(harness):
    first, second = "a@cust.example", "b@cust.example"
    data = known_pair(harness, first, second)
    harness.sink.refuse("451 4.2.0 Mailbox busy", at="RCPT", address=second)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(data, to=[first, second])
    assert caught.value.smtp_code == 451
    assert [m.rcpt_tos for m in harness.sink.messages] == [[first]]
    harness.sink.accept()
    harness.send(data, to=[first, second])
    received = settle(harness, 2)
    assert sorted(m.rcpt_tos[0] for m in carriers(received)) == [first, second]
    assert all(SECRET.encode() not in m.data for m in received)


def test_each_mail_is_recorded_after_the_relay_took_it_and_before_anything_else(harness):
    """The record follows the relay's 250 at once: before the next mail and the answer.

    Not before the final dot: a record of a mail the relay then did not take would make the
    retry leave it out, a loss.
    """
    first, second = "a@cust.example", "b@cust.example"
    data = known_pair(harness, first, second)
    digest = transaction_digest(data, ADVISER, [first, second])

    def recorded() -> int:
        with harness.runtime.keystore.driver_transaction(read_only=True) as transaction:
            return len(relayed_parts(transaction, digest))

    at_each_dot: list[int] = []
    harness.sink.on_data = lambda: at_each_dot.append(recorded())
    harness.send(data, to=[first, second])
    assert recorded() == 2  # before the filter's 250
    assert at_each_dot == [0, 1]
    assert len(carriers(harness.sink.messages)) == 2


def test_lmtp_retry_sends_only_to_the_recipient_that_failed(make_harness):
    harness = make_harness(protocol="lmtp")
    first, second = "a@cust.example", "b@cust.example"
    for customer in (first, second):
        lmtp_transaction(harness.server.port, ADVISER, [customer], offer(customer, 0))
    harness.sink.wait_for(4)
    harness.sink.clear()
    data = offer(f"{first}, {second}")
    harness.sink.refuse("451 4.2.0 Mailbox busy", at="RCPT", address=second)
    replies = lmtp_transaction(harness.server.port, ADVISER, [first, second], data)
    assert [r[:3] for r in replies] == ["250", "451"]
    harness.sink.accept()
    # Postfix retries only the recipient that got 451, in a transaction of its own.
    assert [r[:3] for r in lmtp_transaction(harness.server.port, ADVISER, [second], data)] == [
        "250"
    ]
    received = settle(harness, 2)
    assert sorted(m.rcpt_tos[0] for m in received) == [first, second]


def test_a_record_that_cannot_be_written_still_answers_250(harness, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("webcrypt.smtp.delivery.record_relayed", broken)
    harness.send(PLAIN, to=["b@bank.example"])
    settle(harness, 1)
