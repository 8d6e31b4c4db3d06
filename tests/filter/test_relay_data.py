"""The relay's DATA phase: dot-stuffing and the end of data, byte for byte through a real sink."""

from __future__ import annotations

import pytest

from tests.support.smtp import RecordingSink
from webcrypt.smtp.relay import open_relay

HEAD = b"From: a@bank.example\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"no dot at a line start\r\n",
        b".first line\r\nmiddle\r\n..two dots\r\n.\r\nlast\r\n",
        b"a. b .c\r\n",
        b"",
    ],
)
def test_the_sink_receives_exactly_what_was_sent(body: bytes) -> None:
    with RecordingSink() as sink:
        relay = open_relay(sink.url, timeout=5)
        try:
            relay.send(HEAD + body, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
            relay.send(b".\r\n" + HEAD, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        finally:
            relay.close()
        first, second = sink.wait_for(2)
    assert first.data == HEAD + body
    assert second.data == b".\r\n" + HEAD


def test_a_message_without_a_final_line_end_gets_one() -> None:
    with RecordingSink() as sink:
        relay = open_relay(sink.url, timeout=5)
        try:
            relay.send(HEAD + b"last line", mail_from="a@bank.example", rcpt_tos=["b@example.com"])
            relay.send(HEAD + b".", mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        finally:
            relay.close()
        first, second = sink.wait_for(2)
    assert first.data == HEAD + b"last line\r\n"
    assert second.data == HEAD + b".\r\n"
