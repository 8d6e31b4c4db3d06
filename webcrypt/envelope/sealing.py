"""Seal a message once for any number of recipients."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .armor import Base64Lines, assemble, assemble_pieces, encode_block
from .header import (
    DEFAULT_CHUNK_SIZE,
    KEY_SIZE,
    NONCE_PREFIX_SIZE,
    VERSION,
    WRAP_NONCE_SIZE,
    Header,
    encode_message_part,
    encode_recipient_part,
)
from .stream import StreamEncryptor

Random = Callable[[int], bytes]
Buffer = bytes | bytearray | memoryview

COMPRESSION_LEVEL = 3
WINDOW_LOG = 19
"""The compressor's window for large messages: 512 KiB instead of level 3's 2 MiB, which saves
memory per message in flight and, for mail (attachments already compressed or base64 text),
next to nothing of the ratio. Smaller messages are compressed with the level's own settings."""
_SLICE = 1 << 18


@dataclass(frozen=True)
class RecipientKey:
    """A recipient's address and the long-term key version to seal for."""

    address: str
    key_id: str
    key_version: int
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class SealedMessage:
    """A message encrypted once, with one header block per recipient.

    The payload block is kept as the pieces it was encoded in (ASCII base64 lines, each
    piece ending with LF): every recipient's envelope shares them, and `armored_pieces`
    hands them on without joining them into one copy per recipient.
    """

    headers: Mapping[str, Header]
    header_blocks: Mapping[str, str] = field(repr=False)
    payload: tuple[bytes, ...] = field(repr=False)

    @property
    def payload_block(self) -> str:
        """The payload's base64 lines as one string (a copy of the whole payload)."""
        return b"".join(self.payload).decode("ascii")

    def _header_block(self, address: str) -> str:
        try:
            return self.header_blocks[address]
        except KeyError:
            raise KeyError(f"{address!r} is not a recipient of this message") from None

    def armored(self, address: str) -> str:
        """Return the armored envelope text for the recipient `address`."""
        return assemble(self._header_block(address), self.payload_block)

    def armored_pieces(self, address: str, *, final_newline: bool = True) -> list[bytes]:
        """The armored envelope for `address` as ASCII pieces, the payload not copied.

        Joined, they are `armored(address)` encoded (without its last line end when
        `final_newline` is false).
        """
        header_block = self._header_block(address)
        return assemble_pieces(header_block, self.payload, final_newline=final_newline)


def _random(rng: Random, size: int) -> bytes:
    data = rng(size)
    if len(data) != size:
        raise ValueError(f"rng returned {len(data)} bytes instead of {size}")
    return bytes(data)


def _encrypt_payload(
    message: Sequence[Buffer], key: bytes, prefix: bytes, aad: bytes, chunk_size: int
) -> list[bytes]:
    """Compress and encrypt the message in slices; return the payload's base64 lines.

    The message may come in pieces (e.g. new header fields and a view of the old body);
    what is held besides them is the encoded payload and a slice or two of work.
    """
    size = sum(len(piece) for piece in message)
    compressor = _compressor(size).compressobj(size=size)
    encryptor = StreamEncryptor(key, prefix, aad, chunk_size)
    lines = Base64Lines()
    for piece in message:
        with memoryview(piece) as view:
            for offset in range(0, len(view), _SLICE):
                for chunk in encryptor.feed(compressor.compress(view[offset : offset + _SLICE])):
                    lines.feed(chunk)
    for chunk in encryptor.feed(compressor.flush()):
        lines.feed(chunk)
    lines.feed(encryptor.finish())
    return lines.pieces()


def _compressor(size: int) -> zstandard.ZstdCompressor:
    """The compressor for a message of `size` bytes (see `WINDOW_LOG`)."""
    if size <= 1 << 20:
        return zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
    params = zstandard.ZstdCompressionParameters.from_level(
        COMPRESSION_LEVEL, source_size=size, window_log=WINDOW_LOG, write_content_size=1
    )
    return zstandard.ZstdCompressor(compression_params=params)


def _check_recipients(recipients: Sequence[RecipientKey]) -> None:
    if not recipients:
        raise ValueError("at least one recipient is needed")
    seen: set[str] = set()
    for recipient in recipients:
        if recipient.address in seen:
            raise ValueError(f"recipient {recipient.address!r} is listed twice")
        seen.add(recipient.address)
        if len(recipient.key) != KEY_SIZE:
            raise ValueError(f"the key for {recipient.address!r} is not {KEY_SIZE} bytes")


def seal(
    message: Buffer | Iterable[Buffer],
    recipients: Sequence[RecipientKey],
    *,
    sender: str,
    message_id: str,
    portal_url: str,
    expires: datetime,
    now: datetime | None = None,
    rng: Random = os.urandom,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> SealedMessage:
    """Compress and encrypt `message` once and wrap its data key for every recipient.

    `message` is the bytes of the message, or its pieces in order (sealed as if joined).
    """
    _check_recipients(recipients)
    pieces = [message] if isinstance(message, bytes | bytearray | memoryview) else list(message)
    created = (now if now is not None else datetime.now(UTC)).replace(microsecond=0)
    if expires.tzinfo is None or created.tzinfo is None:
        raise ValueError("now and expires must be timezone-aware")
    expires = expires.replace(microsecond=0)
    if expires <= created:
        raise ValueError("expires must be later than now")
    template = Header(
        version=VERSION,
        message_id=message_id,
        recipient="",
        sender=sender,
        key_id="",
        key_version=0,
        created=created.astimezone(UTC),
        expires=expires.astimezone(UTC),
        portal_url=portal_url.rstrip("/"),
        chunk_size=chunk_size,
        message_size=sum(len(piece) for piece in pieces),
    )
    data_key = _random(rng, KEY_SIZE)
    nonce_prefix = _random(rng, NONCE_PREFIX_SIZE)
    message_part = encode_message_part(template, nonce_prefix)
    payload_aad = hashlib.sha256(message_part).digest()
    payload = _encrypt_payload(pieces, data_key, nonce_prefix, payload_aad, chunk_size)

    headers: dict[str, Header] = {}
    header_blocks: dict[str, str] = {}
    for recipient in recipients:
        header = Header(
            **{
                **template.__dict__,
                "recipient": recipient.address,
                "key_id": recipient.key_id,
                "key_version": recipient.key_version,
            }
        )
        wrap_nonce = _random(rng, WRAP_NONCE_SIZE)
        wrap_aad = message_part + encode_recipient_part(header, wrap_nonce)
        wrapped_key = AESGCM(recipient.key).encrypt(wrap_nonce, data_key, wrap_aad)
        headers[recipient.address] = header
        header_blocks[recipient.address] = encode_block(wrap_aad + wrapped_key)
    return SealedMessage(headers=headers, header_blocks=header_blocks, payload=tuple(payload))
