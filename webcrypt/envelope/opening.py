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
from .errors import DecryptionError, EnvelopeFormatError, MessageTooLarge
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


DEFAULT_MAX_SIZE = 256 * 1024 * 1024
"""The largest message `open` returns unless told a smaller limit (above any size setting)."""
_PIECE = 4 << 20


def _decompress(compressed: bytearray, size: int, limit: int) -> bytes:
    """Decompress the payload to exactly `size` bytes, never producing more than `limit`.

    The declared size is checked against `limit` before anything is allocated for it; then
    the frame is decompressed piece by piece into a buffer of that checked size, and one
    byte more is asked for at the end, so a frame that expands further (a decompression
    bomb) fails having produced at most `size` + 1 bytes. (Reading into one buffer is four
    times faster than collecting pieces, and the buffer is bounded by `limit` either way.)
    The compressed buffer is emptied before the result is copied out, to keep the peak low.
    """
    if size > limit:
        raise MessageTooLarge()
    if zstandard.frame_content_size(compressed) != size:
        raise DecryptionError()
    output = bytearray(size)
    filled = 0
    with (
        memoryview(output) as view,
        zstandard.ZstdDecompressor().stream_reader(
            compressed, read_size=1 << 20, read_across_frames=False
        ) as reader,
    ):
        while filled < size:
            count = reader.readinto(view[filled : filled + _PIECE])
            if not count:
                break
            filled += count
        beyond = reader.read(1)
    if filled != size or beyond:
        raise DecryptionError()
    compressed.clear()
    return bytes(output)


def open(envelope: Envelope, key: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Return the original message; any failure raises the opaque DecryptionError.

    A message larger than `max_size` (declared in the header, or produced by decompressing)
    raises `MessageTooLarge` (a DecryptionError), the declared size before decrypting.
    """
    raw = envelope.raw
    if envelope.header.message_size > max_size:
        raise MessageTooLarge()
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
        return _decompress(compressed, envelope.header.message_size, max_size)
    except (InvalidTag, ValueError, TypeError, binascii.Error, zstandard.ZstdError):
        raise DecryptionError() from None


def is_expired(header: Header, now: datetime | None = None) -> bool:
    """Tell whether the envelope's expiry time has passed at `now` (default: the current time)."""
    return (now if now is not None else datetime.now(UTC)) >= header.expires
