"""A message in pieces, or one larger than a slice, reaches a real sink byte for byte.

The relay writes such a message a slice at a time, dot-stuffed across the slices, instead
of copying it whole; the outbox writes the pieces one after the other.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.smtp import RecordingSink
from webcrypt.mail.compose import SLICE, Chunks, CrlfLines
from webcrypt.smtp.relay import open_relay

HEAD = b"From: a@bank.example\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n"


def large_body() -> bytes:
    """More than two slices of lines, some starting with dots, one right at a slice edge."""
    line = b"x" * 75 + b"\r\n"
    body = bytearray(line * (2 * SLICE // len(line)))
    for at in (0, len(body) // 3, len(body) - 2 * len(line)):
        body[at : at + 1] = b"."
    edge = SLICE - len(HEAD)
    body[edge - 2 : edge + 1] = b"\r\n."  # a line starting with a dot at the first slice's end
    return bytes(body) + b".end\r\n"


def test_large_bytes_and_pieces_arrive_as_they_were_made() -> None:
    body = large_body()
    lf_text = b"<p>line\n.dot\n</p>\n" * 1000
    pieces = Chunks(
        [HEAD, memoryview(body)[:1000], Chunks([memoryview(body)[1000:]]), CrlfLines([lf_text])]
    )
    with RecordingSink() as sink:
        relay = open_relay(sink.url, timeout=30)
        try:
            for data in (HEAD + body, pieces):
                relay.send(
                    data, mail_from="a@bank.example", rcpt_tos=["b@example.com"], crlf_only=True
                )
        finally:
            relay.close()
        whole, in_pieces = sink.wait_for(2, timeout=30)
    assert whole.data == HEAD + body
    assert in_pieces.data == HEAD + body + lf_text.replace(b"\n", b"\r\n")
    assert len(pieces) == len(in_pieces.data)


def test_the_outbox_writes_the_pieces_in_order(tmp_path: Path) -> None:
    relay = open_relay(f"outbox:{tmp_path}", timeout=5)
    relay.send(
        Chunks([HEAD, memoryview(b"body\r\n"), CrlfLines([b"a\nb\n"])]),
        mail_from="a@bank.example",
        rcpt_tos=["b@example.com"],
        crlf_only=True,
    )
    (written,) = tmp_path.glob("*.eml")
    assert written.read_bytes().endswith(HEAD + b"body\r\na\r\nb\r\n")
