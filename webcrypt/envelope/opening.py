"""Parse an armored envelope and open it with a recipient key."""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import errors
from .armor import decode_lines, decoded_length, locate
from .errors import DecryptionError, EnvelopeFormatError
from .header import KEY_SIZE, Header, RawHeader, decode_header
from .stream import decrypt_stream


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: the (not yet authenticated) header and where the payload is."""

    header: Header
    raw: RawHeader = field(repr=False)
    text: str = field(repr=False)
    payload_start: int = field(repr=False)
    payload_end: int = field(repr=False)


def parse(armored: str | bytes) -> Envelope:
    """Parse armored text; raise EnvelopeFormatError if it is not a readable envelope.

    Only the header is decoded here; the payload is decoded while opening.
    """
    if isinstance(armored, bytes | bytearray):
        try:
            armored = armored.decode("ascii")
        except UnicodeDecodeError:
            raise EnvelopeFormatError(errors.NOT_AN_ENVELOPE) from None
    located = locate(armored)
    raw = decode_header(located.header)
    return Envelope(raw.header, raw, armored, located.payload_start, located.payload_end)


def _decompress(compressed: bytearray, size: int) -> bytes:
    if zstandard.frame_content_size(compressed) != size:
        raise DecryptionError()
    message = zstandard.ZstdDecompressor().decompress(compressed, max_output_size=size)
    if len(message) != size:
        raise DecryptionError()
    return message


def open(envelope: Envelope, key: bytes) -> bytes:
    """Return the original message; any failure raises the opaque DecryptionError."""
    raw = envelope.raw
    try:
        if len(key) != KEY_SIZE:
            raise DecryptionError()
        data_key = AESGCM(key).decrypt(raw.wrap_nonce, raw.wrapped_key, raw.wrap_aad)
        if len(data_key) != KEY_SIZE:
            raise DecryptionError()
        start, end = envelope.payload_start, envelope.payload_end
        compressed = decrypt_stream(
            data_key,
            raw.nonce_prefix,
            hashlib.sha256(raw.message_part).digest(),
            envelope.header.chunk_size,
            decode_lines(envelope.text, start, end),
            decoded_length(envelope.text, start, end),
        )
        return _decompress(compressed, envelope.header.message_size)
    except (InvalidTag, ValueError, TypeError, binascii.Error, zstandard.ZstdError):
        raise DecryptionError() from None


def is_expired(header: Header, now: datetime | None = None) -> bool:
    """Tell whether the envelope's expiry time has passed at `now` (default: the current time)."""
    return (now if now is not None else datetime.now(UTC)) >= header.expires
