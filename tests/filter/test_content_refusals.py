"""Contract 2: a content problem is never a 4xx; mail without a trigger is never refused.

And every header field the filter writes itself is RFC 5322-conformant.
"""

from __future__ import annotations

import re

import pytest

from tests.filter.conftest import ADVISER
from tests.filter.helpers import carriers, smtp_transaction
from webcrypt.smtp import sealer
from webcrypt.smtp.delivery import Outcome
from webcrypt.smtp.handler import combine, reply
from webcrypt.smtp.rules import subject_trigger

CUSTOMER = b"c@cust.example"
COLLEAGUE = b"b@bank.example"


def transact(harness, data: bytes, rcpts=(CUSTOMER, COLLEAGUE)) -> str:
    return smtp_transaction(harness.server.port, ADVISER.encode(), list(rcpts), data)[1]


def boom(*args, **kwargs):
    raise ValueError("cannot handle this")


def test_reply_mapping():
    content = Outcome("refused", cause="content", reason="The gateway cannot encrypt this")
    assert reply(content) == "554 5.6.0 The gateway cannot encrypt this"
    limits = Outcome("refused", cause="limits", reason="The message has more than 3 parts")
    assert reply(limits).startswith("552 5.3.4 The message")
    assert reply(Outcome("deferred", cause="keystore")).startswith("451 ")
    # A temporary cause without a text of its own is still a 451, never an empty reply.
    assert reply(Outcome("deferred", cause="new-cause")).startswith("451 4.3.0 ")


@pytest.mark.parametrize(
    ("replies", "combined"),
    [
        (["250 2.0.0 OK sealed", "250 2.0.0 OK pass"], "250 2.0.0 OK sealed"),
        (["250 2.0.0 OK pass", "554 5.4.1 no"], "554 5.4.1 no"),
        (["554 5.4.1 no", "451 4.4.1 later", "250 2.0.0 OK pass"], "451 4.4.1 later"),
    ],
)
def test_one_smtp_reply_for_all_recipients(replies, combined):
    """Over SMTP a 4xx wins (the MTA retries them all), then a 5xx: never a 250 for a loss."""
    assert combine(replies) == combined


def test_a_rule_that_fails_on_mail_that_cannot_be_triggered_passes_it_on(harness, monkeypatch):
    monkeypatch.setattr(subject_trigger, "check", boom)
    data = b"From: adviser@bank.example\r\nSubject: lunch\r\n\r\nsee you\r\n"
    assert transact(harness, data).startswith("250")
    assert harness.sink.wait_for(1)[0].data == data


@pytest.mark.parametrize(
    "header",
    [b"Subject: WebCrypt offer", b"Subject: =?utf-8?b?V2ViQ3J5cHQ=?=", b"X-WebCrypt: encrypt"],
)
def test_a_rule_that_fails_on_mail_that_may_be_triggered_refuses_it(harness, monkeypatch, header):
    monkeypatch.setattr(subject_trigger, "check", boom)
    data = b"From: adviser@bank.example\r\n" + header + b"\r\n\r\nsecret\r\n"
    answer = transact(harness, data)
    assert answer.startswith("554 5.6.0 "), answer
    assert "(ValueError)" in answer
    assert harness.sink.messages == []


def test_content_error_while_planning_is_a_5xx_with_a_reason(harness, monkeypatch):
    monkeypatch.setattr(sealer, "rewritten_header", boom)
    answer = transact(harness, b"From: adviser@bank.example\r\nSubject: WebCrypt\r\n\r\nx\r\n")
    assert answer.startswith("554 5.6.0 The gateway cannot encrypt this message"), answer
    assert harness.sink.messages == []


def test_content_error_while_building_a_carrier_is_a_5xx(harness, monkeypatch):
    monkeypatch.setattr(sealer, "carrier_for", boom)
    answer = transact(harness, b"From: adviser@bank.example\r\nSubject: WebCrypt\r\n\r\nx\r\n")
    assert answer.startswith("554 5.6.0 "), answer
    assert all(b"secret" not in m.data for m in harness.sink.messages)


def test_keystore_trouble_stays_temporary(harness, monkeypatch):
    from keystore.errors import KeystoreUnavailable

    def unavailable(*args, **kwargs):
        raise KeystoreUnavailable("down")

    monkeypatch.setattr(sealer.Sealer, "_accounts", unavailable)
    answer = transact(harness, b"From: adviser@bank.example\r\nSubject: WebCrypt\r\n\r\nx\r\n")
    assert answer.startswith("451 "), answer


# -- every header the filter writes ----------------------------------------------------------

TRICKY = [
    (b"Ann <adviser@bank.example>", b"WebCrypt " + b"x" * 2000),
    (
        "Jürgen Müller-Lüdenscheidt".encode() * 20 + b" <adviser@bank.example>",
        "WebCrypt Grüße".encode(),
    ),
    (b'"J\xfcrgen \xb4" <adviser@bank.example>', b"WebCrypt Gr\xfc\xdfe " + b"\xe4" * 600),
    (b"a" * 300 + b" <adviser@bank.example>", b"WebCrypt =?utf-8?q?x?= " + b"y " * 900),
]
_FIELD_LINE = re.compile(rb"[^\r\n]*\r\n")


def written_header_lines(data: bytes) -> list[bytes]:
    """Every header line of a mail the gateway wrote, its parts' headers included."""
    lines = []
    for block in re.split(rb"\r\n\r\n", data):
        if re.match(rb"[!-9;-~]+:", block):
            lines += block.split(b"\r\n")
    return lines


@pytest.mark.parametrize("case", range(len(TRICKY)))
def test_every_header_line_written_is_conformant(harness, case):
    sender, subject = TRICKY[case]
    with harness.runtime.keystore.session() as session:
        recipients = harness.runtime.keystore.recipients(session)
        recipient, _ = recipients.get_or_create("gone@cust.example", created_by=ADVISER)
        recipients.set_status(recipient, "deactivated")
    data = (
        b"From: " + sender + b"\r\nTo: c@cust.example\r\nSubject: " + subject + b"\r\n"
        b"References: <a@b.example> <" + b"r" * 990 + b"@x.example> <\xb4@x>\r\n"
        b"In-Reply-To: <a@b.example>\r\n\r\nsecret\r\n"
    )
    answer = transact(harness, data, rcpts=(CUSTOMER, COLLEAGUE, b"gone@cust.example"))
    assert answer.startswith("250"), answer
    received = harness.sink.wait_for(4)  # carrier, PIN mail, deactivated notice, copy
    kinds = {"carrier": carriers(received)}
    kinds["pin"] = [r for r in received if b"Auto-Submitted" in r.data and b"PIN" in r.data]
    kinds["notice"] = [r for r in received if b"Auto-Submitted" in r.data and r not in kinds["pin"]]
    assert all(len(mails) == 1 for mails in kinds.values()), kinds
    for mails in kinds.values():
        lines = written_header_lines(mails[0].data)
        assert lines
        for line in lines:
            assert line.isascii(), line
            assert len(line) <= 998, len(line)
    (copy,) = [r for r in received if r.rcpt_tos == ["b@bank.example"]]
    subject_field = re.search(rb"\r\nSubject:.*?\r\n(?! )", copy.data, re.S)
    assert subject_field is not None
    for line in subject_field.group().strip(b"\r\n").split(b"\r\n"):
        assert line.isascii() and len(line) <= 78, line
