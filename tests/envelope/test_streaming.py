"""The envelope and carrier in pieces are byte for byte what the joined path writes.

Sealing keeps the payload as the pieces it was encoded in, secure.htm and the carrier's
attachment are put together from them, and the relay writes them out a slice at a time,
dot-stuffed. Each step is compared with the one-object path it replaces, at sizes around
the places where pieces are cut: the base64 encoding block, the AEAD chunk and the relay's
slice.
"""

from __future__ import annotations

import base64
import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.envelope.conftest import recipient, seal_for
from webcrypt.envelope import open, parse
from webcrypt.envelope.armor import _ENCODE_BLOCK, LINE, Base64Lines
from webcrypt.mail.compose import Chunks, CrlfLines
from webcrypt.sealing.carrier import attachment, attachment_pieces
from webcrypt.sealing.securehtm import render_secure_htm, secure_htm_pieces
from webcrypt.smtp import relay

ALICE = recipient("alice")
BOB = recipient("bob")
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wrapped(data: bytes) -> bytes:
    """Base64 in LF-terminated lines of 76 characters, the armor's encoding."""
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + LINE] + b"\n" for i in range(0, len(encoded), LINE))


def around(*points: int) -> st.SearchStrategy[int]:
    """Sizes at and next to the given cut points."""
    return st.builds(
        lambda point, offset: max(0, point + offset),
        st.sampled_from(points),
        st.integers(-70, 70),
    )


@FAST
@given(size=around(0, _ENCODE_BLOCK, 2 * _ENCODE_BLOCK, 3 * _ENCODE_BLOCK), feeds=st.integers(1, 5))
def test_base64_pieces_join_to_the_wrapped_encoding(size: int, feeds: int) -> None:
    data = random.Random(size).randbytes(size)
    lines = Base64Lines()
    step = -(-size // feeds) or 1
    for offset in range(0, size, step):
        lines.feed(data[offset : offset + step])
    pieces = lines.pieces()
    assert b"".join(pieces) == wrapped(data)
    assert all(piece.endswith(b"\n") for piece in pieces)


@FAST
@given(
    size=around(0, 64 * 1024, _ENCODE_BLOCK, 2 * _ENCODE_BLOCK),
    chunk_size=st.sampled_from([64, 65536]),
    neutral=st.booleans(),
)
@example(size=0, chunk_size=64, neutral=False)
def test_the_attachment_in_pieces_is_the_attachment_joined(
    size: int, chunk_size: int, neutral: bool
) -> None:
    message = random.Random(size).randbytes(size)
    sealed = seal_for(message, [ALICE, BOB], chunk_size=chunk_size)
    header = sealed.headers[BOB.address]
    armored = sealed.armored(BOB.address)
    assert b"".join(sealed.armored_pieces(BOB.address)) == armored.encode("ascii")
    assert open(parse(armored), BOB.key) == message
    if neutral:
        joined = attachment(armored, neutral=True)
        pieces = attachment_pieces(sealed.armored_pieces(BOB.address), neutral=True)
    else:
        joined = attachment(render_secure_htm(armored, header, lang="de"), neutral=False)
        page = secure_htm_pieces(
            sealed.armored_pieces(BOB.address, final_newline=False), header, lang="de"
        )
        pieces = attachment_pieces(page, neutral=False)
    assert isinstance(pieces.body, CrlfLines)
    assert len(pieces.body) == len(joined.body)
    assert pieces.serialized().tobytes() == b"".join(joined.chunks())


def stuffed(data: bytes) -> bytes:
    """What the relay writes for a message given as one bytes object (the joined path)."""
    if b"\n." in data:
        data = data.replace(b"\n.", b"\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


class Written:
    """Collects what the relay writes to its connection."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes: list[int] = []

    def send(self, data: bytes) -> None:
        self.data += data
        self.writes.append(len(data))


lines = st.lists(
    st.sampled_from([b".", b"..", b"x", b"", b".x", b"line", b"\xc3\xa4"]), max_size=40
).map(lambda parts: b"\r\n".join(parts))


@settings(max_examples=200, deadline=None)
@given(data=lines, cuts=st.lists(st.integers(0, 400), max_size=6), slice_size=st.integers(1, 9))
def test_the_relay_writes_pieces_as_it_writes_the_joined_bytes(
    data: bytes, cuts: list[int], slice_size: int
) -> None:
    points = sorted({min(cut, len(data)) for cut in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    chunks = Chunks([Chunks([memoryview(piece)]) for piece in pieces])
    written = Written()
    relay._send_stuffed(written, chunks, slice_size)  # type: ignore[arg-type]
    assert bytes(written.data) == stuffed(data)
    assert chunks.contains(b"\r\n.") == (b"\r\n." in data)
    # Bounded: a write holds at most a slice (doubled at worst by dot-stuffing) and the end.
    assert max(written.writes) <= 2 * slice_size + 5


def test_small_pieces_go_out_in_one_write() -> None:
    # A carrier is many small pieces (header lines, the page's parts, the armored
    # envelope): one write each would cost a system call and a TCP segment per piece.
    pieces = [b"Line %d of the carrier\r\n" % n for n in range(200)]
    written = Written()
    relay._send_stuffed(written, Chunks(pieces))  # type: ignore[arg-type]
    assert bytes(written.data) == stuffed(b"".join(pieces))
    assert len(written.writes) == 1


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(st.sampled_from([b"=_ab", b"=", b"_ab", b"x", b""]), max_size=30),
    marker=st.sampled_from([b"=_ab", b"b\r\n=", b"\r\n\r\n", b"ab\r\n_"]),
)
def test_lines_in_pieces_find_a_marker_as_the_converted_bytes_do(
    lines: list[bytes], marker: bytes
) -> None:
    text = b"\n".join(lines) + b"\n"
    pieces = CrlfLines([text[: len(text) // 2], text[len(text) // 2 :]])
    assert pieces.contains(marker) == (marker in text.replace(b"\n", b"\r\n"))
