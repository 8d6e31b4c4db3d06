"""The format's limits, exactly at each edge and one step past it (docs/envelope-format.md)."""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from tests.envelope.conftest import recipient, seal_for
from tests.vectors.generate import rearm, split
from webcrypt.envelope import (
    DecryptionError,
    EnvelopeFormatError,
    Header,
    MessageTooLarge,
    RecipientKey,
    open,
    parse,
)
from webcrypt.envelope import errors as messages
from webcrypt.envelope.armor import END, decode_lines, decoded_length
from webcrypt.envelope.header import (
    MAGIC,
    MAX_CHUNK_SIZE,
    MAX_TEXT,
    MAX_TIMESTAMP,
    MAX_U32,
    MIN_CHUNK_SIZE,
    decode_header,
    is_valid_chunk_size,
)
from webcrypt.envelope.stream import MAX_CHUNKS, StreamEncryptor, chunk_count, chunk_nonce

ALICE = recipient("alice")
WINDOW = 1 << 18
"""Characters `decode_lines` decodes at a time (armor._DECODE_WINDOW)."""


def _open_own(message: bytes, key: RecipientKey, **options: object) -> tuple[bytes, Header]:
    envelope = parse(seal_for(message, [key], **options).armored(key.address))
    return open(envelope, key.key), envelope.header


def test_text_fields_of_the_largest_length_round_trip() -> None:
    """Five fields of 65,535 bytes: a header longer than one decoding window."""
    longest = "x" * MAX_TEXT
    key = RecipientKey(longest, longest.upper(), 1, hashlib.sha256(b"long").digest())
    sealed = seal_for(b"body", [key], message_id=longest, sender=longest, portal_url=longest)
    armored = sealed.armored(longest)
    assert len(armored) > WINDOW
    envelope = parse(armored)
    assert envelope.header == sealed.headers[longest]
    assert (envelope.header.message_id, envelope.header.key_id) == (longest, longest.upper())
    assert open(envelope, key.key) == b"body"


def test_a_text_field_one_byte_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="message_id is longer than 65535 bytes"):
        seal_for(b"x", [ALICE], message_id="é" * (MAX_TEXT // 2) + "xx")


@pytest.mark.parametrize("version", [0, MAX_U32])
def test_key_versions_at_the_ends_of_u32_round_trip(version: int) -> None:
    opened, header = _open_own(b"x", recipient("edge", version))
    assert opened == b"x"
    assert header.key_version == version


def test_a_negative_key_version_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bits"):
        seal_for(b"x", [recipient("x", -1)])


def test_timestamps_at_the_ends_of_the_range_round_trip() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    last = datetime.fromtimestamp(MAX_TIMESTAMP, UTC)
    assert last == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    opened, header = _open_own(b"x", ALICE, now=epoch, expires=last)
    assert opened == b"x"
    assert (header.created, header.expires) == (epoch, last)


def test_a_time_before_the_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="created is out of range"):
        seal_for(b"x", [ALICE], now=datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("size", "allowed"),
    [
        (MIN_CHUNK_SIZE, True),
        (MAX_CHUNK_SIZE, True),
        (MIN_CHUNK_SIZE // 2, False),
        (MAX_CHUNK_SIZE * 2, False),
        (MIN_CHUNK_SIZE + 1, False),
        (96, False),
        (MAX_CHUNK_SIZE - 1, False),
    ],
)
def test_chunk_sizes_are_powers_of_two_within_the_bounds(size: int, allowed: bool) -> None:
    assert is_valid_chunk_size(size) is allowed


@pytest.mark.parametrize("size", [MIN_CHUNK_SIZE, MAX_CHUNK_SIZE])
def test_the_smallest_and_largest_chunk_sizes_round_trip(size: int) -> None:
    message = os.urandom(3 * size // 2)  # incompressible: more than one chunk
    opened, header = _open_own(message, ALICE, chunk_size=size)
    assert opened == message
    assert header.chunk_size == size


def test_the_largest_chunk_count_is_allowed_and_one_more_is_not() -> None:
    sealed = MIN_CHUNK_SIZE + 16
    assert chunk_count(MAX_CHUNKS * sealed, MIN_CHUNK_SIZE) == MAX_CHUNKS
    with pytest.raises(DecryptionError):
        chunk_count(MAX_CHUNKS * sealed + 16 + 1, MIN_CHUNK_SIZE)


def test_the_last_chunk_index_is_an_unsigned_32_bit_number() -> None:
    assert chunk_nonce(b"prefix7", MAX_CHUNKS - 1, True) == b"prefix7\xff\xff\xff\xff\x01"
    assert chunk_nonce(b"prefix7", 0, False) == b"prefix7\x00\x00\x00\x00\x00"


def test_the_encryptor_stops_before_its_chunk_counter_would_repeat_a_nonce() -> None:
    # Reaching 2**32 chunks by feeding data would take hours; the counter is set directly.
    near_the_end = StreamEncryptor(bytes(32), b"prefix7", b"", MIN_CHUNK_SIZE)
    near_the_end._index = MAX_CHUNKS - 1
    assert len(near_the_end.finish()) == 16
    at_the_end = StreamEncryptor(bytes(32), b"prefix7", b"", MIN_CHUNK_SIZE)
    at_the_end._index = MAX_CHUNKS
    with pytest.raises(ValueError, match="chunk counter"):
        at_the_end.finish()


def test_the_largest_declared_size_is_refused_before_decrypting() -> None:
    armored = seal_for(b"x", [ALICE]).armored(ALICE.address)
    header, payload = split(armored)
    size_at = header.index(struct.pack(">BIQ", 1, 65536, 1)) + 5
    changed = header[:size_at] + b"\xff" * 8 + header[size_at + 8 :]
    envelope = parse(rearm(changed, payload))
    assert envelope.header.message_size == 2**64 - 1
    with pytest.raises(MessageTooLarge):
        open(envelope, ALICE.key)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (MAGIC[:7], messages.NOT_AN_ENVELOPE),
        (MAGIC, messages.NOT_AN_ENVELOPE),
        (b"WEBCRYPX\x01", messages.NOT_AN_ENVELOPE),
        (MAGIC + b"\x02", messages.unknown_version(2)),
        (MAGIC + b"\xc8", messages.unknown_version(200)),
        (MAGIC + b"\x01", messages.MALFORMED),
        (MAGIC + b"\x01\x00\x02\xff\xfe", messages.MALFORMED),
    ],
    ids=["short", "magic-only", "other-magic", "version-2", "version-200", "cut", "not-utf8"],
)
def test_each_header_failure_tells_the_reader_what_it_is(data: bytes, message: str) -> None:
    with pytest.raises(EnvelopeFormatError) as caught:
        decode_header(data)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: "x" + text, messages.NOT_AN_ENVELOPE),
        (lambda text: text + text, messages.MALFORMED),
        (lambda text: text + END + "\n", messages.MALFORMED),
        (lambda text: text + "P.S.\n", messages.MALFORMED),
    ],
    ids=["one-character-before", "twice", "second-end-line", "text-after"],
)
def test_the_text_must_be_exactly_one_envelope(change: Callable[[str], str], message: str) -> None:
    armored = seal_for(b"x", [ALICE]).armored(ALICE.address)
    with pytest.raises(EnvelopeFormatError) as caught:
        parse(change(armored))
    assert str(caught.value) == message


@pytest.mark.parametrize("block", ["", " \n", "QUJ", "QUJDR", "QUJD\nQUJ", "Q==="])
def test_a_base64_block_of_impossible_length_is_refused_before_decoding(block: str) -> None:
    with pytest.raises(DecryptionError):
        decoded_length(block, 0, len(block))


@pytest.mark.parametrize(("block", "length"), [("QUJD", 3), ("QUI=", 2), ("QQ==\n", 1)])
def test_the_decoded_length_subtracts_the_padding(block: str, length: int) -> None:
    assert decoded_length(block, 0, len(block)) == length


def test_characters_outside_the_base64_alphabet_are_refused() -> None:
    with pytest.raises(DecryptionError):
        b"".join(decode_lines("QUJD****", 0, 8))


def test_a_window_of_only_whitespace_is_skipped() -> None:
    text = " " * WINDOW + "QUJD"
    assert b"".join(decode_lines(text, 0, len(text))) == b"ABC"


@pytest.mark.parametrize("padded", ["QUI=", "QQ=="])
def test_padding_at_the_end_of_a_window_with_more_data_after_it_is_refused(padded: str) -> None:
    text = "A" * (WINDOW - 4) + padded + "QUJD"
    with pytest.raises(DecryptionError):
        b"".join(decode_lines(text, 0, len(text)))
