"""The cap on new recipients per sender and hour, with the real filter and keystore.

Counted before any account is made (and before its PIN is hashed): above the cap a message
gets 451 (it fits once the hour has passed) or 550 (it alone has more new addresses than the
cap), and the admins see an audit entry and the metric.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from keystore.models import Recipient
from tests.filter.conftest import ADVISER, Harness
from tests.filter.helpers import carriers, lmtp_transaction, rfc5322

CAP = {"WEBCRYPT_FILTER_NEW_RECIPIENTS_PER_HOUR": "3"}


def accounts(harness: Harness) -> set[str]:
    with harness.runtime.keystore.session() as session:
        return set(session.scalars(select(Recipient.address)))


def message(to: list[str]) -> bytes:
    """A message to `to`; the same recipients give the same Message-ID (as an MTA's retry)."""
    return rfc5322(
        f"From: {ADVISER}\nTo: {', '.join(to)}\nSubject: WebCrypt\n"
        f"Message-ID: <{'.'.join(to).replace('@', '-')}@bank.example>\n\nsecret\n"
    )


def cap_metric(reply: str) -> float:
    value = REGISTRY.get_sample_value("webcrypt_filter_recipient_cap_total", {"reply": reply})
    return value or 0.0


def audit_entries(harness: Harness) -> list[str]:
    with harness.runtime.keystore.session() as session:
        events = harness.runtime.keystore.audit(session).search(action="filter.recipient-cap")
        return [f"{event.actor} {event.detail}" for event in events]


def refused(harness: Harness, to: list[str], mail_from: str = ADVISER) -> tuple[int, str]:
    with pytest.raises(smtplib.SMTPDataError) as error:
        harness.send(message(to), mail_from=mail_from, to=to)
    return error.value.smtp_code, " ".join(error.value.smtp_error.decode().split())


def test_one_message_over_the_cap_is_refused_for_good(make_harness: Callable) -> None:
    harness = make_harness(**CAP)
    before = cap_metric("5xx")
    to = [f"c{i}@cust.example" for i in range(4)]
    code, text = refused(harness, to)
    assert code == 550 and text.startswith("5.7.1 This message has 4 recipients without an")
    assert "at most 3 new recipients per hour" in text
    assert accounts(harness) == set() and harness.sink.messages == []
    assert audit_entries(harness) == [f"{ADVISER} new=4 last_hour=0 limit=3 reply=5xx"]
    assert cap_metric("5xx") == before + 1


def test_over_the_cap_within_the_hour_is_deferred_then_delivered(make_harness: Callable) -> None:
    harness = make_harness(**CAP)
    before = cap_metric("4xx")
    harness.send(
        message(["a@cust.example", "b@cust.example"]), to=["a@cust.example", "b@cust.example"]
    )
    harness.sink.wait_for(4)  # two carriers, two PIN mails
    harness.sink.clear()

    code, text = refused(harness, ["c@cust.example", "d@cust.example"])
    assert code == 451 and text.startswith("4.7.1 You added 2 new recipients in the last hour")
    assert accounts(harness) == {"a@cust.example", "b@cust.example"}
    assert harness.sink.messages == []
    assert cap_metric("4xx") == before + 1
    assert audit_entries(harness) == [f"{ADVISER} new=2 last_hour=2 limit=3 reply=4xx"]
    # The MTA's retries within the hour count in the metric, not again in the audit log.
    harness.clock.advance(minutes=5)
    assert refused(harness, ["c@cust.example", "d@cust.example"])[0] == 451
    assert cap_metric("4xx") == before + 2 and len(audit_entries(harness)) == 1

    # Known recipients cost nothing, and another adviser has a cap of their own.
    harness.send(message(["a@cust.example"]), to=["a@cust.example"])
    other = "other@bank.example"
    data = message(["e@cust.example"]).replace(ADVISER.encode(), other.encode())
    harness.send(data, mail_from=other, to=["e@cust.example"])
    assert len(carriers(harness.sink.wait_for(3))) == 2

    # The MTA's retry an hour later goes through.
    harness.clock.advance(hours=1, seconds=1)
    harness.send(
        message(["c@cust.example", "d@cust.example"]), to=["c@cust.example", "d@cust.example"]
    )
    assert {"c@cust.example", "d@cust.example"} <= accounts(harness)


def test_the_cap_counts_the_sender_in_any_spelling(make_harness: Callable) -> None:
    harness = make_harness(**CAP)
    harness.send(
        message(["a@cust.example", "b@cust.example"]), to=["a@cust.example", "b@cust.example"]
    )
    shouted = "ADVISER@Bank.Example"
    data = message(["c@cust.example", "d@cust.example"]).replace(ADVISER.encode(), shouted.encode())
    with pytest.raises(smtplib.SMTPDataError) as error:
        harness.send(data, mail_from=shouted, to=["c@cust.example", "d@cust.example"])
    assert error.value.smtp_code == 451


def test_no_cap_when_set_to_zero(make_harness: Callable) -> None:
    harness = make_harness(WEBCRYPT_FILTER_NEW_RECIPIENTS_PER_HOUR="0")
    to = [f"c{i}@cust.example" for i in range(25)]
    harness.send(message(to), to=to)
    assert len(accounts(harness)) == 25


def test_lmtp_refuses_every_recipient(make_harness: Callable) -> None:
    harness = make_harness(protocol="lmtp", **CAP)
    to = [f"c{i}@cust.example" for i in range(4)]
    replies = lmtp_transaction(harness.server.port, ADVISER, to, message(to))
    assert [reply[:9] for reply in replies] == ["550 5.7.1"] * 4
    assert accounts(harness) == set()
