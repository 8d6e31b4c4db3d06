"""Triggered mail: only the Subject (when it holds the trigger) and ``#secure`` in To/Cc change.

The internal copy is the message the external recipients decrypt, so both are compared
byte for byte with what came in.
"""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from tests.filter.conftest import ADVISER
from tests.filter.helpers import as_received, carriers, open_carrier, smtp_transaction

CUSTOMER = b"c@cust.example"
COLLEAGUE = b"b@bank.example"


def send(harness, data: bytes, rcpts=(CUSTOMER, COLLEAGUE)) -> tuple[bytes, bytes, object]:
    """Send `data`; return the internal copy, the decrypted carrier and the carrier."""
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), list(rcpts), data)
    assert reply.startswith("250"), reply
    received = harness.sink.wait_for(len(rcpts))
    (carrier,) = carriers(received)
    (plain,) = [r for r in received if r.rcpt_tos == ["b@bank.example"]]
    return plain.data, open_carrier(harness.runtime, carrier), carrier


def to_the_customer(*fields: bytes, body: bytes = b"\r\nsecret\r\n") -> bytes:
    """A CRLF message from the adviser to the customer: From, To, `fields`, then `body`."""
    return b"From: adviser@bank.example\r\nTo: c@cust.example\r\n" + b"".join(fields) + body


def subject_of(data: bytes) -> str:
    return str(message_from_bytes(data, policy=policy.default)["Subject"])


BARE_CR = (
    b"From: Ann <adviser@bank.example>\rTo: c@cust.example, b@bank.example\r"
    b"Subject: WebCrypt Angebot\rMessage-ID: <m1@bank.example>\rMIME-Version: 1.0\r"
    b'Content-Type: multipart/mixed; boundary="b1"\r\r'
    b"--b1\rContent-Type: text/plain\r\rsecret line 1\rsecret line 2\r--b1--\r"
)


@pytest.mark.parametrize("line_end", [b"\r", b"\n", b"\r\n"])
def test_only_the_subject_changes(harness, line_end):
    data = BARE_CR.replace(b"\r", line_end)
    plain, inner, carrier = send(harness, data)
    expected = as_received(data).replace(
        b"Subject: WebCrypt Angebot" + line_end, b"Subject: Angebot" + line_end
    )
    assert plain == expected
    assert inner == expected
    assert subject_of(carrier.data) == "Angebot"
    assert b"secret" not in carrier.data


def test_body_right_after_the_header_block_is_kept(harness):
    data = to_the_customer(
        b"Message-ID: <m2@bank.example>\r\n",
        b"Subject: WebCrypt x\r\n",
        body=b"secret first line\r\nsecond line\r\n",
    )
    plain, inner, _ = send(harness, data)
    expected = data.replace(b"WebCrypt x", b"x")
    assert inner == expected
    assert plain == expected


def test_subject_without_the_trigger_is_left_as_written(harness):
    subject = b"Subject: =?iso-8859-1?q?Fr=FChst=FCck?=\r\n   und  mehr\r\n"
    data = to_the_customer(
        b"X-WebCrypt: encrypt\r\n", subject, b"Message-ID: <m3@bank.example>\r\n"
    )
    plain, inner, carrier = send(harness, data)
    assert plain == inner == data
    assert subject_of(carrier.data) == "Frühstück und mehr"


def test_recipient_fields_lose_only_the_suffix(harness):
    data = (
        b"From: adviser@bank.example\r\n"
        b'To: "C" <c@cust.example#secure>,\r\n\tb@bank.example\r\n'
        b"Cc: x@cust.example#Secure (note)\r\nSubject: hello\r\n"
        b"Message-ID: <m4@bank.example>\r\n\r\nsecret #secure\r\n"
    )
    plain, inner, _ = send(harness, data)
    expected = data.replace(b"c@cust.example#secure>", b"c@cust.example>").replace(
        b"x@cust.example#Secure", b"x@cust.example"
    )
    assert plain == inner == expected


def test_missing_message_id_is_added_with_the_line_end_of_the_header(harness):
    data = b"From: adviser@bank.example\rTo: c@cust.example\rSubject: WebCrypt\r\rsecret\r\n"
    plain, inner, _ = send(harness, data)
    head, _, body = plain.partition(b"\r\r")
    assert body == b"secret\r\n"
    assert head.startswith(b"From: adviser@bank.example\rTo: c@cust.example\rSubject: \r")
    assert head.split(b"\r")[-1].startswith(b"Message-ID: <")
    assert inner == plain


def test_encoded_word_and_folded_text_keep_their_space(harness):
    data = to_the_customer(
        b"Subject: WebCrypt =?utf-8?q?Fr=C3=BChst=C3=BCck?=\r\n mit Kunden\r\n",
        b"Message-ID: <m5@bank.example>\r\n",
    )
    plain, inner, carrier = send(harness, data)
    assert subject_of(plain) == subject_of(carrier.data) == "Frühstück mit Kunden"
    assert inner == plain


LONG_WORD = "x" * 2000


@pytest.mark.parametrize(
    "subject",
    [
        f"WebCrypt {LONG_WORD}",
        f"WebCrypt Grüße {'ü' * 1500}",
        "WebCrypt " + " ".join(["Wort"] * 400),
        "WebCrypt an =?utf-8?q?encoded_word?= text",
    ],
    ids=["long ascii word", "long non-ascii", "many words", "encoded word"],
)
def test_rewritten_subject_is_conformant(harness, subject):
    data = to_the_customer(
        b"Subject: " + subject.encode("utf-8") + b"\r\n", b"Message-ID: <m6@bank.example>\r\n"
    )
    plain, inner, carrier = send(harness, data)
    expected = " ".join(subject.removeprefix("WebCrypt ").split()).replace(
        "=?utf-8?q?encoded_word?=", "encoded word"
    )
    for mail in (plain, carrier.data):
        assert subject_of(mail) == expected
        head = mail.split(b"\r\n\r\n")[0]
        subject_lines = head.split(b"Subject:")[1].split(b"\r\n")
        assert all(len(line) <= 78 for line in subject_lines if line[:1] in (b" ", b""))
        assert head.isascii()
    assert inner == plain
