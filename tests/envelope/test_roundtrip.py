"""Seal and open: round trips, many recipients, sizes at the chunk boundaries."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.envelope.conftest import EXPIRES, NOW, recipient, seal_for
from webcrypt.envelope import DEFAULT_CHUNK_SIZE, Header, is_expired, open, parse
from webcrypt.envelope.armor import BEGIN, END, SEPARATOR, decoded_length, locate
from webcrypt.envelope.sealing import COMPRESSION_LEVEL

ALICE = recipient("alice")
ARMOR_LINE = re.compile(r"^[A-Za-z0-9+/=]{1,76}$")


def roundtrip(message: bytes, **options: object) -> bytes:
    armored = seal_for(message, [ALICE], **options).armored(ALICE.address)
    return open(parse(armored), ALICE.key)


def payload_length(armored: str) -> int:
    located = locate(armored)
    return decoded_length(armored, located.payload_start, located.payload_end)


@given(st.binary(max_size=5000), st.sampled_from([64, 128, 1024, DEFAULT_CHUNK_SIZE]))
@settings(max_examples=60, deadline=None)
def test_any_message_round_trips(message: bytes, chunk_size: int) -> None:
    assert roundtrip(message, chunk_size=chunk_size) == message


@pytest.mark.parametrize("message", [b"", b"x", b"\x00", os.urandom(300_000)], ids=len)
def test_small_and_multi_chunk_messages(message: bytes) -> None:
    assert roundtrip(message) == message


def _message_compressing_to(target: int) -> bytes:
    """Find incompressible bytes whose zstd frame is exactly `target` bytes long."""
    noise = os.urandom(target)
    compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
    for size in range(target, target - 64, -1):
        if len(compressor.compress(noise[:size])) == target:
            return noise[:size]
    raise AssertionError(f"no message compresses to {target} bytes")


@pytest.mark.parametrize(
    ("chunk_size", "chunks"),
    [(64, 1), (64, 2), (64, 3), (DEFAULT_CHUNK_SIZE, 1), (DEFAULT_CHUNK_SIZE, 2)],
)
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_compressed_sizes_at_chunk_boundaries(chunk_size: int, chunks: int, delta: int) -> None:
    target = chunk_size * chunks + delta
    message = _message_compressing_to(target)
    armored = seal_for(message, [ALICE], chunk_size=chunk_size).armored(ALICE.address)
    expected_chunks = -(-target // chunk_size)
    assert payload_length(armored) == target + 16 * expected_chunks
    assert open(parse(armored), ALICE.key) == message


def test_twenty_recipients_share_one_payload() -> None:
    recipients = [recipient(f"r{i}") for i in range(20)]
    message = b"Subject: hello\r\n\r\n" + os.urandom(200_000)
    sealed = seal_for(message, recipients)
    payloads = set()
    for person in recipients:
        armored = sealed.armored(person.address)
        payloads.add(armored[armored.index(SEPARATOR) :])
        envelope = parse(armored)
        assert envelope.header == sealed.headers[person.address]
        assert envelope.header.recipient == person.address
        assert open(envelope, person.key) == message
    assert len(payloads) == 1


def test_header_fields_round_trip() -> None:
    sealed = seal_for(b"body", [recipient("bob", 7)], portal_url="https://p.example/")
    header = parse(sealed.armored("bob@mail.example")).header
    assert header == Header(
        version=1,
        message_id="<test@bank.example>",
        recipient="bob@mail.example",
        sender="adviser@bank.example",
        key_id="id-bob",
        key_version=7,
        created=NOW,
        expires=EXPIRES,
        portal_url="https://p.example",
        chunk_size=DEFAULT_CHUNK_SIZE,
        message_size=4,
    )


def test_armor_is_wrapped_ascii_between_markers() -> None:
    armored = seal_for(os.urandom(10_000), [ALICE]).armored(ALICE.address)
    lines = armored.splitlines()
    assert armored.isascii() and armored.endswith("\n")
    assert lines[0] == BEGIN and lines[-1] == END and SEPARATOR in lines
    assert all(ARMOR_LINE.match(line) for line in lines if line not in (BEGIN, END, SEPARATOR))


def test_same_rng_and_clock_give_the_same_envelope() -> None:
    def rng(size: int) -> bytes:
        return b"\x07" * size

    first = seal_for(b"same", [ALICE], rng=rng).armored(ALICE.address)
    assert first == seal_for(b"same", [ALICE], rng=rng).armored(ALICE.address)
    assert first != seal_for(b"same", [ALICE]).armored(ALICE.address)


def test_whitespace_and_line_ends_are_tolerated() -> None:
    armored = seal_for(os.urandom(5000), [ALICE]).armored(ALICE.address)
    # "Q" occurs in base64 but not in the marker lines
    reflowed = "\r\n  " + armored.replace("\n", "\r\n").replace("Q", " Q\t") + "\n\n"
    assert open(parse(reflowed), ALICE.key) == open(parse(armored), ALICE.key)
    assert open(parse(armored.encode("ascii")), ALICE.key)


def test_is_expired() -> None:
    header = seal_for(b"x", [ALICE]).headers[ALICE.address]
    assert not is_expired(header, EXPIRES - timedelta(seconds=1))
    assert is_expired(header, EXPIRES)
    assert is_expired(header)  # the test clock lies in the past


def test_created_defaults_to_the_current_time() -> None:
    sealed = seal_for(b"x", [ALICE], now=None, expires=NOW + timedelta(days=36500))
    assert sealed.headers[ALICE.address].created > NOW
