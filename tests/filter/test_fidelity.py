"""Contract 1: mail the filter does not encrypt leaves it byte for byte as it came in.

Messages go in over a raw SMTP connection (no client rewrites anything) and are compared
with what the recording sink behind the filter received.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.filter.conftest import ADVISER
from tests.filter.helpers import as_received, carriers, open_carrier, smtp_transaction

CUSTOMER = b"c@cust.example"
COLLEAGUE = b"b@bank.example"

UNTRIGGERED = {
    "crlf": b"From: a@bank.example\r\nTo: c@cust.example\r\nSubject: hi\r\n\r\nline\r\n",
    "bare lf": b"From: a@bank.example\nTo: c@cust.example\nSubject: hi\n\nline 1\nline 2\n",
    "bare cr": b"From: a@bank.example\rTo: c@cust.example\rSubject: hi\r\rline 1\rline 2\r\n",
    "mixed": b"Subject: hi\r\nTo: c@cust.example\n\rbody\rmore\nand\r\n.\r\n..\r\nend\r\n",
    "8-bit everywhere": (
        b"From: \xb4a@bank.example\r\nTo: \xb4google@example.com\r\nSubject: \xb4!\r\n"
        b"Message-ID: <\xe4\xf6@x>\r\nX-\xff: \xfe\r\n\r\nGr\xfc\xdfe \xff\r\n"
    ),
    "nul": b"Subject: a\x00b\r\n\r\nbody\x00with\x00nuls\r\n",
    "overlong lines": b"Subject: " + b"s" * 5000 + b"\r\n\r\n" + b"x" * 200_000 + b"\r\n",
    "no blank line": b"From: a@bank.example\r\nSubject: hi\r\nbody right after\r\nmore\r\n",
    "headers only": b"Subject: hi\r\n",
    "no headers": b"\r\njust a body\r\n",
    "broken mime": (
        b"Content-Type: multipart/mixed; boundary=----=_NextPart_000\r\nSubject: x\r\n\r\n"
        b"------=_NextPart_000\r\nContent-Type: text/plain; charset=\x00\r\n\r\nx\r\n"
    ),
}


@pytest.mark.parametrize("name", sorted(UNTRIGGERED))
def test_untriggered_mail_is_relayed_byte_identical(harness, name):
    data = UNTRIGGERED[name]
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [CUSTOMER, COLLEAGUE], data)
    assert reply.startswith("250"), reply
    (received,) = harness.sink.wait_for(1)
    assert received.data == as_received(data)
    assert received.rcpt_tos == ["c@cust.example", "b@bank.example"]


LINE_ENDS = st.sampled_from([b"\r\n", b"\n", b"\r"])
NAMES = st.sampled_from(
    [b"From", b"To", b"Cc", b"Subject", b"Message-ID", b"Content-Type", b"X-Mailer", b"Date"]
)
# Header values: any bytes but line ends (8-bit, NUL, control characters, very long runs).
VALUES = st.binary(max_size=300).map(lambda v: v.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def byte_messages(draw: st.DrawFn) -> bytes:
    """Header fields with any bytes and line ends, a blank line or none, any body bytes."""
    head = b""
    for _ in range(draw(st.integers(0, 8))):
        name = draw(NAMES | st.binary(min_size=1, max_size=20))
        head += name + b":" + draw(VALUES) + draw(LINE_ENDS)
        if draw(st.booleans()):
            head += draw(st.sampled_from([b" ", b"\t"])) + draw(VALUES) + draw(LINE_ENDS)
    separator = draw(st.sampled_from([b"", b"\r\n", b"\n", b"\r"]))
    body = draw(st.binary(max_size=2000))
    return head + separator + body


def untriggered(data: bytes) -> bool:
    lowered = data.lower()
    return not any(
        word in lowered for word in (b"webcrypt", b"#secure", b"sensitivity", b"encrypt")
    )


def no_dot_after_bare_lf(data: bytes) -> bool:
    # The one documented exception (see test_dot_after_a_bare_line_feed_cannot_end_the_data).
    return re.search(rb"(?<!\r)\n\.", data) is None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=byte_messages().filter(untriggered))
def test_any_untriggered_bytes_pass_unchanged(harness, data):
    harness.sink.clear()
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [CUSTOMER, COLLEAGUE], data)
    assert reply.startswith("250"), reply
    (received,) = harness.sink.wait_for(1)
    assert received.data == as_received(data)


def test_dot_after_a_bare_line_feed_cannot_end_the_data(harness):
    # Whether a bare LF ends a line differs between servers (Postfix: yes, RFC 5321: no).
    # The relay dot-stuffs after every LF, so that "<LF>.<CRLF>" can never end the data
    # early at the next hop (SMTP smuggling); a server that takes only CRLF as a line end
    # then keeps that one extra dot. Postfix, which sends us no bare LF, unstuffs it.
    data = b"Subject: hi\r\n\r\nline\n.\r\nMAIL FROM:<x@evil.example>\r\nafter\r\n"
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [CUSTOMER], data)
    assert reply.startswith("250"), reply
    (received,) = harness.sink.wait_for(1)
    assert received.data == data.replace(b"\n.\r\n", b"\n..\r\n") == as_received(data)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rest=byte_messages().filter(untriggered).filter(no_dot_after_bare_lf))
def test_internal_copy_of_triggered_mail_is_unchanged_without_a_subject_trigger(harness, rest):
    # Triggered by a header field: nothing in the message needs rewriting, so the copy
    # for the colleague and what the customer decrypts are the bytes that came in.
    data = b"X-WebCrypt: encrypt\r\nMessage-ID: <p@bank.example>\r\n" + rest
    harness.sink.clear()
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [CUSTOMER, COLLEAGUE], data)
    assert not reply.startswith("4"), reply
    if not reply.startswith("250"):
        return  # refused with a reason (contract 2); nothing went out
    received = harness.sink.messages
    (copy,) = [r for r in received if r.rcpt_tos == ["b@bank.example"]]
    assert copy.data == as_received(data)
    (carrier,) = carriers(received)
    assert open_carrier(harness.runtime, carrier) == as_received(data)
