"""8-bit bytes in header fields and envelope addresses: handled, never a 451 (contract 2)."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.filter.conftest import ADVISER
from tests.filter.helpers import as_received, carriers, open_carrier, smtp_transaction
from webcrypt.rules import Context, matching_triggers
from webcrypt.rules.message import MailMessage

CUSTOMER = b"c@cust.example"
COLLEAGUE = b"b@bank.example"
SECRET = b"SECRET-BODY-7f3a"


def header(**fields: bytes) -> bytes:
    return b"".join(
        name.replace("_", "-").encode() + b": " + v + b"\r\n" for name, v in fields.items()
    )


def transact(harness, data: bytes, rcpts=(CUSTOMER,), mail_from: bytes = ADVISER.encode()):
    return smtp_transaction(harness.server.port, mail_from, list(rcpts), data)


EIGHT_BIT = {
    "to": header(From=b"adviser@bank.example", To=b"\xb4google@example.com", Subject=b"\xb4!"),
    "mixed utf-8 and latin-1": header(
        From=b"adviser@bank.example", To=b"c@cust.example", Subject=b"\x80\xc2\x80 Gr\xfc\xdfe"
    ),
    "content-type": header(
        From=b"adviser@bank.example",
        Content_Type=b'text/plain; charset="\xe4\xf6"; name="\xff\x80.txt"',
    ),
    "message-id": header(From=b"adviser@bank.example", Message_ID=b"<\xe4\xf6\xfc@bank.example>"),
    "thread": header(
        From=b"adviser@bank.example",
        In_Reply_To=b"<\xb4x@bank.example>",
        References=b"<a@b.example> <\xb4x@bank.example> <" + b"r" * 1200 + b"@x.example>",
    ),
    "from name": header(From=b'"J\xfcrgen M\xfcller" <adviser@bank.example>'),
    "from address": header(From=b"\xb4adviser@bank.example"),
}


@pytest.mark.parametrize("name", sorted(EIGHT_BIT))
def test_untriggered_relayed_unchanged(harness, name):
    data = EIGHT_BIT[name] + b"\r\nhello\r\n"
    _, reply = transact(harness, data, rcpts=(CUSTOMER, COLLEAGUE))
    assert reply.startswith("250"), reply
    (received,) = harness.sink.wait_for(1)
    assert received.data == data


@pytest.mark.parametrize("name", sorted(set(EIGHT_BIT) - {"from address"}))
def test_triggered_sealed(harness, name):
    data = EIGHT_BIT[name] + b"X-WebCrypt: encrypt\r\n\r\n" + SECRET + b"\r\n"
    _, reply = transact(harness, data, rcpts=(CUSTOMER, COLLEAGUE))
    assert reply.startswith("250"), reply
    received = harness.sink.wait_for(2)
    (carrier,) = carriers(received)
    assert SECRET not in carrier.data
    inner = open_carrier(harness.runtime, carrier)
    assert inner.endswith(b"\r\n\r\n" + SECRET + b"\r\n")
    assert EIGHT_BIT[name] in inner  # every header byte as it came (a Message-ID may be added)
    head = carrier.data.split(b"\r\n\r\n")[0]
    assert head.isascii()
    assert max(map(len, head.split(b"\r\n"))) <= 998


def test_triggered_with_an_8bit_from_address_is_refused_with_the_reason(harness):
    # The From: header must name the envelope sender's mailbox (the PIN goes there): a
    # garbled one is a content problem, refused at once with an ASCII reason, never a 4xx.
    data = EIGHT_BIT["from address"] + b"X-WebCrypt: encrypt\r\n\r\n" + SECRET + b"\r\n"
    _, reply = transact(harness, data, rcpts=(CUSTOMER, COLLEAGUE))
    assert reply.startswith("550 5.7.1"), reply
    assert reply.isascii() and "From:" in reply
    assert harness.sink.messages == []


def test_latin1_subject_with_the_trigger(harness):
    data = (
        header(From=b"adviser@bank.example", Subject=b"WebCrypt Gr\xfc\xdfe \xb4!") + b"\r\nx\r\n"
    )
    _, reply = transact(harness, data, rcpts=(CUSTOMER, COLLEAGUE))
    assert reply.startswith("250"), reply
    received = harness.sink.wait_for(2)
    (carrier,) = carriers(received)
    parsed = message_from_bytes(carrier.data, policy=policy.default)
    assert parsed["Subject"] == "Grüße ´!"
    (plain,) = [r for r in received if r.rcpt_tos == ["b@bank.example"]]
    assert message_from_bytes(plain.data, policy=policy.default)["Subject"] == "Grüße ´!"
    assert open_carrier(harness.runtime, carrier) == plain.data


def test_from_display_name_in_latin1_is_shown_decoded(harness):
    data = EIGHT_BIT["from name"] + b"Subject: WebCrypt\r\n\r\nx\r\n"
    transact(harness, data)
    (carrier,) = carriers(harness.sink.wait_for(1))
    sender = message_from_bytes(carrier.data, policy=policy.default)["From"]
    assert sender.addresses[0].display_name == "Jürgen Müller"
    assert sender.addresses[0].addr_spec == ADVISER


def test_eight_bit_envelope_recipient_is_refused_clearly(harness):
    data = header(From=b"adviser@bank.example", Subject=b"WebCrypt") + b"\r\nx\r\n"
    rcpt_replies, reply = transact(harness, data, rcpts=(b"\xb4google@example.com",))
    if rcpt_replies[0].startswith("250"):
        assert reply.startswith("5"), reply
        assert harness.sink.messages == []
    else:
        assert rcpt_replies[0].startswith("5"), rcpt_replies


def test_eight_bit_envelope_recipient_untriggered_is_relayed(harness):
    data = header(From=b"adviser@bank.example", Subject=b"hi") + b"\r\nx\r\n"
    rcpt_replies, reply = transact(harness, data, rcpts=(b"\xb4google@example.com",))
    if rcpt_replies[0].startswith("250"):
        assert reply.startswith("250"), reply
        assert harness.sink.wait_for(1)[0].data == data
    else:
        assert rcpt_replies[0].startswith("5"), rcpt_replies


def test_utf8_envelope_sender_gets_an_ascii_message_id(harness):
    data = header(From=b"adviser@bank.example", Subject=b"WebCrypt") + b"\r\nx\r\n"
    _, reply = smtp_transaction(
        harness.server.port,
        ADVISER.encode(),
        [CUSTOMER, COLLEAGUE],
        data,
        smtputf8=True,
    )
    assert reply.startswith("250"), reply
    received = harness.sink.wait_for(2)
    (plain,) = [r for r in received if r.rcpt_tos == ["b@bank.example"]]
    assert plain.data.split(b"\r\n\r\n")[0].isascii()


MUTATIONS = st.lists(
    st.tuples(st.integers(0, 400), st.binary(min_size=1, max_size=4)), min_size=1, max_size=8
)
BASE = (
    b"From: Ann <adviser@bank.example>\r\nTo: c@cust.example, b@bank.example\r\n"
    b"Subject: WebCrypt =?utf-8?q?Gr=C3=BC=C3=9Fe?= an alle\r\n"
    b"Message-ID: <base@bank.example>\r\nReferences: <r1@bank.example>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=----=_NextPart_000\r\n"
    b"X-WebCrypt: encrypt\r\n\r\n"
    b"------=_NextPart_000\r\nContent-Type: text/plain\r\n\r\n" + SECRET + b"\r\n"
    b"------=_NextPart_000--\r\n"
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations=MUTATIONS)
@example(mutations=[(BASE.index(b"X-WebCrypt") - 3, b"\x00\x00\x00\x00")])  # up to the field
def test_mutated_headers_never_get_a_4xx_nor_leak(harness, mutations):
    head_end = BASE.index(b"X-WebCrypt")  # the trigger header stays intact
    data = bytearray(BASE)
    for offset, junk in mutations:
        at = offset % head_end
        cut = junk[: head_end - at]  # junk that would reach into the trigger field stops short
        data[at : at + len(cut)] = cut
    data = bytes(data)
    harness.sink.clear()
    _, reply = transact(harness, data, rcpts=(CUSTOMER, COLLEAGUE))
    assert not reply.startswith("4"), reply
    if not reply.startswith("250"):
        assert harness.sink.messages == []
        return
    received = harness.sink.messages  # 250 comes only after the relay took everything
    if len(received) == 1 and received[0].rcpt_tos == ["c@cust.example", "b@bank.example"]:
        # The mutation moved the trigger out of the header block: not a triggered message.
        assert received[0].data == as_received(data)
        assert not matching_triggers(MailMessage(data), Context(ADVISER, ()))
        return
    for mail in received:
        if mail.rcpt_tos != ["b@bank.example"]:
            assert SECRET not in mail.data
    (plain,) = [r for r in received if r.rcpt_tos == ["b@bank.example"]]
    # Everything from the trigger field on stays (a Message-ID may be added before the body).
    assert b"X-WebCrypt: encrypt\r\n" in plain.data
    assert plain.data.endswith(BASE[BASE.index(b"\r\n\r\n") :])
