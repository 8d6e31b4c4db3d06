"""The envelope header: its fields and their exact byte layout (docs/envelope-format.md)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from . import errors
from .errors import EnvelopeFormatError

MAGIC = b"WEBCRYPT"
VERSION = 1
COMPRESSION_ZSTD = 1
DEFAULT_CHUNK_SIZE = 65536
MIN_CHUNK_SIZE = 64
MAX_CHUNK_SIZE = 1 << 20
KEY_SIZE = 32
NONCE_PREFIX_SIZE = 7
WRAP_NONCE_SIZE = 12
TAG_SIZE = 16
WRAPPED_KEY_SIZE = KEY_SIZE + TAG_SIZE
MAX_TEXT = 0xFFFF
MAX_U32 = 0xFFFFFFFF
MAX_TIMESTAMP = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Header:
    """The authenticated, non-secret facts about one recipient's envelope."""

    version: int
    message_id: str
    recipient: str
    sender: str
    key_id: str
    key_version: int
    created: datetime
    expires: datetime
    portal_url: str
    chunk_size: int = DEFAULT_CHUNK_SIZE
    message_size: int = 0


@dataclass(frozen=True)
class RawHeader:
    """A decoded header together with the bytes that the cryptography needs."""

    header: Header
    message_part: bytes
    wrap_aad: bytes
    nonce_prefix: bytes
    wrap_nonce: bytes
    wrapped_key: bytes


def is_valid_chunk_size(size: int) -> bool:
    """Tell whether `size` is a chunk size the format allows."""
    return MIN_CHUNK_SIZE <= size <= MAX_CHUNK_SIZE and size & (size - 1) == 0


def _text(value: str, name: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > MAX_TEXT:
        raise ValueError(f"{name} is longer than {MAX_TEXT} bytes")
    return struct.pack(">H", len(data)) + data


def _timestamp(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    seconds = int(value.timestamp())
    if not 0 <= seconds <= MAX_TIMESTAMP:
        raise ValueError(f"{name} is out of range")
    return seconds


def encode_message_part(header: Header, nonce_prefix: bytes) -> bytes:
    """Encode the fields shared by every recipient (magic through nonce prefix)."""
    if not is_valid_chunk_size(header.chunk_size):
        raise ValueError(f"chunk size {header.chunk_size} is not allowed")
    if len(nonce_prefix) != NONCE_PREFIX_SIZE:
        raise ValueError("nonce prefix must be 7 bytes")
    return b"".join(
        (
            MAGIC,
            struct.pack(">B", header.version),
            _text(header.message_id, "message_id"),
            _text(header.sender, "sender"),
            struct.pack(">Q", _timestamp(header.created, "created")),
            struct.pack(">Q", _timestamp(header.expires, "expires")),
            _text(header.portal_url, "portal_url"),
            struct.pack(">BIQ", COMPRESSION_ZSTD, header.chunk_size, header.message_size),
            nonce_prefix,
        )
    )


def encode_recipient_part(header: Header, wrap_nonce: bytes) -> bytes:
    """Encode the per-recipient fields (recipient through wrap nonce)."""
    if not 0 <= header.key_version <= MAX_U32:
        raise ValueError("key_version must fit in 32 bits")
    if len(wrap_nonce) != WRAP_NONCE_SIZE:
        raise ValueError("wrap nonce must be 12 bytes")
    return b"".join(
        (
            _text(header.recipient, "recipient"),
            _text(header.key_id, "key_id"),
            struct.pack(">I", header.key_version),
            wrap_nonce,
        )
    )


class _Reader:
    """Read fields from header bytes; running short is a format error."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise EnvelopeFormatError(errors.MALFORMED)
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def number(self, fmt: str) -> int:
        (value,) = struct.unpack(fmt, self.take(struct.calcsize(fmt)))
        return int(value)

    def text(self) -> str:
        try:
            return self.take(self.number(">H")).decode("utf-8")
        except UnicodeDecodeError:
            raise EnvelopeFormatError(errors.MALFORMED) from None

    def time(self) -> datetime:
        seconds = self.number(">Q")
        if seconds > MAX_TIMESTAMP:
            raise EnvelopeFormatError(errors.MALFORMED)
        return datetime.fromtimestamp(seconds, UTC)


def decode_header(data: bytes) -> RawHeader:
    """Parse header bytes; raise EnvelopeFormatError when they are not a v1 header."""
    reader = _Reader(data)
    if len(data) < len(MAGIC) + 1 or reader.take(len(MAGIC)) != MAGIC:
        raise EnvelopeFormatError(errors.NOT_AN_ENVELOPE)
    version = reader.number(">B")
    if version != VERSION:
        raise EnvelopeFormatError(errors.unknown_version(version))
    message_id = reader.text()
    sender = reader.text()
    created = reader.time()
    expires = reader.time()
    portal_url = reader.text()
    compression = reader.number(">B")
    chunk_size = reader.number(">I")
    message_size = reader.number(">Q")
    nonce_prefix = reader.take(NONCE_PREFIX_SIZE)
    if compression != COMPRESSION_ZSTD or not is_valid_chunk_size(chunk_size):
        raise EnvelopeFormatError(errors.MALFORMED)
    message_end = reader.pos
    recipient = reader.text()
    key_id = reader.text()
    key_version = reader.number(">I")
    wrap_nonce = reader.take(WRAP_NONCE_SIZE)
    wrap_end = reader.pos
    wrapped_key = reader.take(WRAPPED_KEY_SIZE)
    if reader.pos != len(data):
        raise EnvelopeFormatError(errors.MALFORMED)
    header = Header(
        version=version,
        message_id=message_id,
        recipient=recipient,
        sender=sender,
        key_id=key_id,
        key_version=key_version,
        created=created,
        expires=expires,
        portal_url=portal_url,
        chunk_size=chunk_size,
        message_size=message_size,
    )
    return RawHeader(
        header=header,
        message_part=data[:message_end],
        wrap_aad=data[:wrap_end],
        nonce_prefix=nonce_prefix,
        wrap_nonce=wrap_nonce,
        wrapped_key=wrapped_key,
    )
