"""Bad input: format errors while parsing, one opaque error while opening, checks while sealing."""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime, timedelta

import pytest

from tests.envelope.conftest import NOW, recipient, seal_for
from tests.vectors.generate import flip_bit, rearm, split
from webcrypt.envelope import (
    DecryptionError,
    EnvelopeError,
    EnvelopeFormatError,
    RecipientKey,
    open,
    parse,
)
from webcrypt.envelope.armor import BEGIN, END, SEPARATOR

ALICE = recipient("alice")
BOB = recipient("bob")


@pytest.fixture(scope="module")
def armored() -> str:
    return seal_for(os.urandom(300), [ALICE], chunk_size=64).armored(ALICE.address)


def test_error_classes() -> None:
    assert issubclass(EnvelopeFormatError, EnvelopeError)
    assert issubclass(DecryptionError, EnvelopeError)
    assert not issubclass(DecryptionError, EnvelopeFormatError)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "<!DOCTYPE html><html><body>Invoice</body></html>",
        b"\xff\xfe binary",
        "-----BEGIN PGP MESSAGE-----\nabc\n-----END PGP MESSAGE-----\n",
    ],
)
def test_not_an_envelope(text: str | bytes) -> None:
    with pytest.raises(EnvelopeFormatError, match="not a WebCrypt secure message"):
        parse(text)


def test_text_before_the_envelope_is_refused(armored: str) -> None:
    with pytest.raises(EnvelopeFormatError):
        parse("Dear customer\n" + armored)


def test_text_after_the_envelope_is_refused(armored: str) -> None:
    with pytest.raises(EnvelopeFormatError):
        parse(armored + "P.S.\n")


@pytest.mark.parametrize("marker", [SEPARATOR, END])
def test_missing_marker_means_incomplete(armored: str, marker: str) -> None:
    with pytest.raises(EnvelopeFormatError, match="incomplete"):
        parse(armored.replace(marker, ""))


def test_cut_off_anywhere_never_opens(armored: str) -> None:
    for length in range(0, len(armored) - len(END) - 1, 7):
        with pytest.raises(EnvelopeError):
            open(parse(armored[:length]), ALICE.key)


def test_bad_base64_in_the_header(armored: str) -> None:
    broken = armored.replace(BEGIN + "\n", BEGIN + "\n!")
    with pytest.raises(EnvelopeFormatError, match="damaged"):
        parse(broken)


def test_unknown_version_names_the_version(armored: str) -> None:
    header, payload = split(armored)
    with pytest.raises(EnvelopeFormatError, match="format version 9"):
        parse(rearm(header[:8] + b"\x09" + header[9:], payload))


def _header_with(armored: str, offset: int, value: bytes) -> str:
    header, payload = split(armored)
    return rearm(header[:offset] + value + header[offset + len(value) :], payload)


def _field_offsets(header: bytes) -> dict[str, int]:
    """Return where the fixed-size fields after the first text fields start."""

    def skip_text(offset: int) -> int:
        (length,) = struct.unpack(">H", header[offset : offset + 2])
        return offset + 2 + length

    created = skip_text(skip_text(9))  # after magic, version, message id, sender
    compression = skip_text(created + 16)  # after created, expires, portal URL
    return {"created": created, "compression": compression, "chunk_size": compression + 1}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("created", struct.pack(">Q", 2**63)),
        ("compression", b"\x02"),
        ("chunk_size", struct.pack(">I", 100)),
        ("chunk_size", struct.pack(">I", 1 << 21)),
    ],
)
def test_invalid_header_fields(armored: str, name: str, value: bytes) -> None:
    offset = _field_offsets(split(armored)[0])[name]
    with pytest.raises(EnvelopeFormatError, match="damaged"):
        parse(_header_with(armored, offset, value))


def test_invalid_utf8_in_the_header(armored: str) -> None:
    header, _ = split(armored)
    sender = header.index(b"adviser@")
    with pytest.raises(EnvelopeFormatError, match="damaged"):
        parse(_header_with(armored, sender, b"\xff"))


@pytest.mark.parametrize("change", ["shorter", "longer"])
def test_header_length_must_be_exact(armored: str, change: str) -> None:
    header, payload = split(armored)
    header = header[:-1] if change == "shorter" else header + b"\x00"
    with pytest.raises(EnvelopeFormatError, match="damaged"):
        parse(rearm(header, payload))


def test_every_flipped_header_bit_is_detected(armored: str) -> None:
    header, payload = split(armored)
    for offset in range(len(header)):
        for bit in range(8):
            changed = header[:offset] + bytes([header[offset] ^ (1 << bit)]) + header[offset + 1 :]
            with pytest.raises(EnvelopeError):
                open(parse(rearm(changed, payload)), ALICE.key)


def test_every_flipped_payload_byte_is_detected(armored: str) -> None:
    header, payload = split(armored)
    for offset in range(len(payload)):
        with pytest.raises(DecryptionError):
            open(parse(rearm(header, flip_bit(payload, offset))), ALICE.key)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p + b"\x00" * 16,  # an extra empty chunk's worth
        lambda p: p + p[-80:],  # the last chunk repeated
        lambda p: p[:-1],
        lambda p: p[:10],
        lambda p: b"",
    ],
    ids=["appended", "last-repeated", "one-byte-short", "ten-bytes", "empty"],
)
def test_damaged_payload_lengths(armored: str, mangle) -> None:  # type: ignore[no-untyped-def]
    header, payload = split(armored)
    with pytest.raises(DecryptionError):
        open(parse(rearm(header, mangle(payload))), ALICE.key)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (SEPARATOR + "\n", SEPARATOR + "\n!"),
        (SEPARATOR + "\n", SEPARATOR + "\nA"),
        ("\n" + END, "==\n" + END),
        ("\n" + END, "A===\n" + END),
    ],
    ids=["bad-character", "stray-character", "extra-padding", "three-padding"],
)
def test_damaged_payload_base64(armored: str, old: str, new: str) -> None:
    with pytest.raises(DecryptionError):
        open(parse(armored.replace(old, new)), ALICE.key)


def test_padding_in_the_middle_of_the_payload() -> None:
    block = seal_for(b"a", [ALICE]).armored(ALICE.address)
    start = block.index(SEPARATOR) + len(SEPARATOR) + 1
    body = block[start : block.index(END)]
    assert body.rstrip().endswith("=")
    doubled = block[:start] + body + body + END + "\n"
    with pytest.raises(DecryptionError):
        open(parse(doubled), ALICE.key)


@pytest.mark.parametrize("key", [BOB.key, b"", b"\x00" * 16, ALICE.key + b"\x00", "k" * 32])
def test_wrong_keys(armored: str, key: bytes) -> None:
    with pytest.raises(DecryptionError):
        open(parse(armored), key)


def test_decryption_errors_all_read_the_same(armored: str) -> None:
    header, payload = split(armored)
    messages = set()
    for text, key in [
        (armored, BOB.key),
        (rearm(header, payload[:-1]), ALICE.key),
        (rearm(header, flip_bit(payload, 3)), ALICE.key),
    ]:
        with pytest.raises(DecryptionError) as caught:
            open(parse(text), key)
        messages.add(str(caught.value))
    assert len(messages) == 1


def test_payload_of_another_message_is_refused() -> None:
    message = b"same words in both"
    first = seal_for(message, [ALICE], message_id="<1@x>").armored(ALICE.address)
    second = seal_for(message, [ALICE], message_id="<2@x>").armored(ALICE.address)
    spliced = first[: first.index(SEPARATOR)] + second[second.index(SEPARATOR) :]
    with pytest.raises(DecryptionError):
        open(parse(spliced), ALICE.key)


def test_header_of_another_recipient_is_refused() -> None:
    sealed = seal_for(b"for both", [ALICE, BOB])
    for_alice = sealed.armored(ALICE.address)
    for_bob = sealed.armored(BOB.address)
    mixed = for_bob[: for_bob.index(SEPARATOR)] + for_alice[for_alice.index(SEPARATOR) :]
    assert open(parse(mixed), BOB.key) == b"for both"  # the payload is shared by design
    with pytest.raises(DecryptionError):
        open(parse(mixed), ALICE.key)


@pytest.mark.parametrize(
    ("recipients", "options", "match"),
    [
        ([], {}, "at least one recipient"),
        ([ALICE, ALICE], {}, "listed twice"),
        ([RecipientKey("x@y", "k", 1, b"short")], {}, "not 32 bytes"),
        ([recipient("x", 2**32)], {}, "32 bits"),
        ([ALICE], {"expires": NOW}, "later than now"),
        ([ALICE], {"expires": datetime(2030, 1, 1)}, "timezone-aware"),
        ([ALICE], {"now": datetime(2025, 1, 1)}, "timezone-aware"),
        ([ALICE], {"chunk_size": 1000}, "chunk size"),
        ([ALICE], {"sender": "x" * 70000}, "sender is longer"),
        ([ALICE], {"rng": lambda n: b"\x00"}, "rng returned"),
        ([ALICE], {"now": datetime(1960, 1, 1, tzinfo=UTC)}, "created is out of range"),
    ],
)
def test_seal_refuses_bad_arguments(
    recipients: list[RecipientKey], options: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        seal_for(b"x", recipients, **options)


def test_armored_for_someone_else() -> None:
    with pytest.raises(KeyError, match="not a recipient"):
        seal_for(b"x", [ALICE]).armored(BOB.address)


def test_expires_must_follow_created_after_rounding() -> None:
    with pytest.raises(ValueError):
        seal_for(b"x", [ALICE], expires=NOW + timedelta(microseconds=5))
