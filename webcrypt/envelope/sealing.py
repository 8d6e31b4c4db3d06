"""Seal a message once for any number of recipients."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .armor import Base64Lines, assemble, encode_block
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

COMPRESSION_LEVEL = 3
_SLICE = 1 << 20


@dataclass(frozen=True)
class RecipientKey:
    """A recipient's address and the long-term key version to seal for."""

    address: str
    key_id: str
    key_version: int
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class SealedMessage:
    """A message encrypted once, with one header block per recipient."""

    headers: Mapping[str, Header]
    header_blocks: Mapping[str, str] = field(repr=False)
    payload_block: str = field(repr=False)

    def armored(self, address: str) -> str:
        """Return the armored envelope text for the recipient `address`."""
        try:
            header_block = self.header_blocks[address]
        except KeyError:
            raise KeyError(f"{address!r} is not a recipient of this message") from None
        return assemble(header_block, self.payload_block)


def _random(rng: Random, size: int) -> bytes:
    data = rng(size)
    if len(data) != size:
        raise ValueError(f"rng returned {len(data)} bytes instead of {size}")
    return bytes(data)


def _encrypt_payload(message: bytes, key: bytes, prefix: bytes, aad: bytes, chunk_size: int) -> str:
    """Compress and encrypt the message in slices; return the payload's base64 lines."""
    compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL).compressobj(size=len(message))
    encryptor = StreamEncryptor(key, prefix, aad, chunk_size)
    lines = Base64Lines()
    with memoryview(message) as view:
        for offset in range(0, len(view), _SLICE):
            for chunk in encryptor.feed(compressor.compress(view[offset : offset + _SLICE])):
                lines.feed(chunk)
    for chunk in encryptor.feed(compressor.flush()):
        lines.feed(chunk)
    lines.feed(encryptor.finish())
    return lines.finish()


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
    message: bytes,
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
    """Compress and encrypt `message` once and wrap its data key for every recipient."""
    _check_recipients(recipients)
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
        message_size=len(message),
    )
    data_key = _random(rng, KEY_SIZE)
    nonce_prefix = _random(rng, NONCE_PREFIX_SIZE)
    message_part = encode_message_part(template, nonce_prefix)
    payload_aad = hashlib.sha256(message_part).digest()
    payload_block = _encrypt_payload(message, data_key, nonce_prefix, payload_aad, chunk_size)

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
    return SealedMessage(headers=headers, header_blocks=header_blocks, payload_block=payload_block)
