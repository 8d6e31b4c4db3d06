"""The filter's SMTP server: DATA read in pieces, plain paths parsed without the header parser."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.filter.conftest import ADVISER
from tests.filter.helpers import carriers, open_carrier, rfc5322
from webcrypt.smtp.server import plain_path, read_data, unstuff


def stuffed(lines: list[bytes]) -> bytes:
    """The DATA stream smtplib would send for these CRLF-less lines."""
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)


def read(
    stream: bytes,
    *,
    limit: int | None = None,
    pieces: list[int] | None = None,
    reader_limit: int = 2**16,
) -> tuple[bytes | None, bytes]:
    """Feed `stream` to a StreamReader (in pieces of the given sizes) and run read_data on it.

    Returns the message read and what is left in the reader after it.
    """

    async def main() -> tuple[bytes | None, bytes]:
        reader = asyncio.StreamReader(limit=reader_limit)
        position = 0
        for size in pieces or [len(stream)]:
            reader.feed_data(stream[position : position + size])
            position += size
        reader.feed_data(stream[position:])
        reader.feed_eof()
        content = await read_data(reader, limit)
        return content, await reader.read()

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("stream", "content"),
    [
        (b".\r\n", b""),
        (b"a\r\n.\r\n", b"a\r\n"),
        (b"Ende.\r\nNoch ein Satz.\r\n.\r\n", b"Ende.\r\nNoch ein Satz.\r\n"),
        (b"..\r\n.\r\n", b".\r\n"),
        (b"..x\r\nb\r\n...\r\n.\r\n", b".x\r\nb\r\n..\r\n"),
        (b"bare\nline .\r\n\r\n.\r\n", b"bare\nline .\r\n\r\n"),
        (b"x.\r\n..\r\n.\r\n", b"x.\r\n.\r\n"),
    ],
)
def test_read_data(stream, content):
    assert read(stream) == (content, b"")
    # The same arriving one byte at a time: the end is found across pieces.
    assert read(stream, pieces=[1] * len(stream)) == (content, b"")


def test_what_follows_the_end_stays_for_the_next_command():
    assert read(b"a\r\n.\r\nQUIT\r\n") == (b"a\r\n", b"QUIT\r\n")


def test_longer_than_the_reader_limit():
    body = b"A" * 5000 + b"\r\n" + b"B." * 3000 + b"\r\n"
    for pieces in ([700] * 12, None):
        content, rest = read(body + b".\r\nNOOP\r\n", pieces=pieces, reader_limit=64)
        assert (content, rest) == (body, b"NOOP\r\n")


@pytest.mark.parametrize("extra", [0, 1])
def test_size_limit_counts_what_was_sent(extra):
    stream = stuffed([b".x" * 10, b"y" * 20])  # 21 + 2 + 20 + 2 bytes as sent
    content, rest = read(stream + b".\r\nQUIT\r\n", limit=len(stream) - extra)
    assert rest == b"QUIT\r\n"  # over the limit or not, the message is read to its end
    assert content == (None if extra else b".x" * 10 + b"\r\n" + b"y" * 20 + b"\r\n")


def test_client_gone_before_the_end():
    with pytest.raises(asyncio.IncompleteReadError):
        read(b"a\r\nb\r\n")


lines = st.lists(
    st.binary(max_size=40)
    .map(lambda b: b.replace(b"\r\n", b"\n"))
    .filter(lambda b: not b.endswith(b"\r")),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(lines=lines, cuts=st.lists(st.integers(1, 50), max_size=20), reader_limit=st.integers(8, 64))
def test_any_message_comes_back_as_sent(lines, cuts, reader_limit):
    message = b"".join(line + b"\r\n" for line in lines)
    stream = stuffed(lines) + b".\r\nRSET\r\n"
    content, rest = read(stream, pieces=cuts, reader_limit=reader_limit)
    assert (content, rest) == (message, b"RSET\r\n")


def test_unstuff():
    assert unstuff(b"..a\r\n..\r\nb\r\n.c\r\n") == b".a\r\n.\r\nb\r\nc\r\n"
    assert unstuff(b"") == b""


def aiosmtpd_path(arg: str) -> tuple[str | None, str | None]:
    return SMTP._getaddr(SMTP.__new__(SMTP), arg)


@pytest.mark.parametrize(
    "arg",
    [
        "<a@bank.example>",
        "<a.b+c@sub.bank.example> SIZE=1234 BODY=8BITMIME",
        " <x@y>",
        "<o'neil@cust.example>\tSMTPUTF8",
        "<c@cust.example#secure>",
    ],
)
def test_plain_path_parses_as_aiosmtpd_does(arg):
    assert plain_path(arg) == aiosmtpd_path(arg)


@pytest.mark.parametrize(
    "arg",
    [
        '<"a b"@bank.example>',
        "<>",
        "a@bank.example",
        "<a..b@x>",
        "<a@[127.0.0.1]>",
        "<a@b>x",
        "<a@b> (comment) SIZE=1",
        "<a@b>\n",
    ],
)
def test_other_paths_take_the_full_parser(arg):
    assert plain_path(arg) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.@<> #=\t\n\"'+-()[]\\", max_size=24))
def test_plain_path_never_disagrees_with_aiosmtpd(arg):
    parsed = plain_path(arg)
    if parsed is not None:
        assert parsed == aiosmtpd_path(arg)


def test_pipelined_commands_after_the_message(harness):
    """A client that sends the next command right behind the final dot is answered in turn."""
    data = rfc5322(f"From: {ADVISER}\nTo: c@cust.example\nSubject: WebCrypt\n\nsecret.\n..\n")
    with socket.create_connection(("127.0.0.1", harness.server.port), timeout=30) as sock:
        replies = sock.makefile("rb")
        replies.readline()
        sock.sendall(b"EHLO client.example\r\n")
        while replies.readline()[3:4] == b"-":
            pass
        sock.sendall(f"MAIL FROM:<{ADVISER}>\r\nRCPT TO:<c@cust.example>\r\nDATA\r\n".encode())
        assert [replies.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        sock.sendall(data.replace(b"\r\n..", b"\r\n...") + b".\r\nQUIT\r\n")
        assert replies.readline()[:3] == b"250"
        assert replies.readline()[:3] == b"221"
    (carrier,) = carriers(harness.sink.wait_for(2))
    assert open_carrier(harness.runtime, carrier).endswith(b"\r\nsecret.\r\n..\r\n")


def test_a_message_larger_than_the_piece_size(harness):
    """DATA longer than the reader's piece limit, with no end marker inside, arrives whole."""
    body = (b"Q" * 998 + b"\r\n") * 1200  # 1.2 MB without ".\r\n" in it
    harness.send(
        rfc5322(f"From: {ADVISER}\nTo: b@bank.example\nSubject: big\n\n") + body,
        to=["b@bank.example"],
    )
    (plain,) = harness.sink.wait_for(1)
    assert plain.data.endswith(b"\r\n\r\n" + body)


def test_client_leaving_mid_message_leaves_the_filter_serving(harness):
    with socket.create_connection(("127.0.0.1", harness.server.port), timeout=30) as sock:
        replies = sock.makefile("rb")
        replies.readline()
        sock.sendall(
            f"HELO c\r\nMAIL FROM:<{ADVISER}>\r\nRCPT TO:<b@bank.example>\r\nDATA\r\n".encode()
        )
        assert [replies.readline()[:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
        sock.sendall(b"Subject: half\r\n\r\nhalf a mess")
    harness.send(
        rfc5322(f"From: {ADVISER}\nTo: b@bank.example\nSubject: hi\n\nwhole\n"),
        to=["b@bank.example"],
    )
    (plain,) = harness.sink.wait_for(1)
    assert b"whole" in plain.data
    with harness.client() as client:
        assert client.noop()[0] == 250


def test_data_out_of_order_is_refused_as_aiosmtpd_does(harness):
    with harness.client() as client:
        assert client.docmd("DATA")[0] == 503  # no HELO yet
        client.ehlo()
        assert client.docmd("DATA")[0] == 503  # no MAIL, no RCPT
        client.mail(ADVISER)
        assert client.docmd("DATA") == (503, b"Error: need RCPT command")
        client.rcpt("b@bank.example")
        assert client.docmd("DATA", "now") == (501, b"Syntax: DATA")
        assert client.noop()[0] == 250
    assert harness.sink.messages == []


def test_busy_filter_answers_451_and_keeps_the_message_with_the_client(harness):
    server = harness.server
    server.handler.gate_wait = 0.2
    slots = server.max_transactions

    async def hold(count: int) -> None:
        for _ in range(count):
            await server.handler.gate.acquire()

    async def free(count: int) -> None:
        for _ in range(count):
            server.handler.gate.release()

    asyncio.run_coroutine_threadsafe(hold(slots), server.loop).result(5)
    data = rfc5322(f"From: {ADVISER}\nTo: b@bank.example\nSubject: hi\n\nhello\n")
    with harness.client() as client:
        client.ehlo()
        client.mail(ADVISER)
        client.rcpt("b@bank.example")
        code, text = client.docmd("DATA")
        assert (code, text) == (451, b"4.3.2 Too busy right now; try again later")
        asyncio.run_coroutine_threadsafe(free(slots), server.loop).result(5)
        # The refused transaction is over; the same connection sends the message again.
        assert client.sendmail(ADVISER, ["b@bank.example"], data) == {}
    (plain,) = harness.sink.wait_for(1)
    assert plain.data.endswith(b"\r\n\r\nhello\r\n")


def test_local_part_over_the_limit_is_refused(harness):
    """aiosmtpd's local_part_limit holds for plain paths too (the filter leaves it unset)."""
    with harness.client() as client:
        client.ehlo()
        client.mail(ADVISER)
        [connection] = harness.server._connections
        connection.local_part_limit = 8
        assert client.rcpt("abcdefghi@cust.example")[0] == 553
        assert client.rcpt("abcdefgh@cust.example")[0] == 250
