"""The payload's chunked AEAD: an AES-256-GCM STREAM construction.

Chunk i is sealed with the nonce ``prefix || u32(i) || u8(last)``, so dropped,
reordered or appended chunks fail authentication. See docs/envelope-format.md.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError
from .header import TAG_SIZE

MAX_CHUNKS = 1 << 32


def chunk_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """Return the nonce of chunk `index` (the last chunk is flagged)."""
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class StreamEncryptor:
    """Encrypt a byte stream in fixed-size chunks: `feed` data, then `finish`.

    A chunk is only sealed once more data follows it, so the final chunk is
    always known when it is sealed and carries the last-chunk flag.
    """

    def __init__(self, key: bytes, prefix: bytes, aad: bytes, chunk_size: int) -> None:
        self._aead = AESGCM(key)
        self._prefix = prefix
        self._aad = aad
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0

    def _seal(self, plaintext: bytes | bytearray, last: bool) -> bytes:
        if self._index >= MAX_CHUNKS:
            raise ValueError("message too large for the chunk counter")
        nonce = chunk_nonce(self._prefix, self._index, last)
        self._index += 1
        return self._aead.encrypt(nonce, plaintext, self._aad)

    def feed(self, data: bytes) -> list[bytes]:
        """Add plaintext; return the chunks that are complete and not final."""
        self._buffer += data
        size = self._chunk_size
        count = (len(self._buffer) - 1) // size if self._buffer else 0
        if not count:
            return []
        sealed = [
            self._seal(self._buffer[i * size : (i + 1) * size], last=False) for i in range(count)
        ]
        del self._buffer[: count * size]
        return sealed

    def finish(self) -> bytes:
        """Seal and return the final chunk (empty only if the whole stream was empty)."""
        last = self._seal(self._buffer, last=True)
        self._buffer = bytearray()
        return last


def chunk_count(payload_length: int, chunk_size: int) -> int:
    """Return the number of chunks in a payload, or raise DecryptionError if impossible."""
    sealed_size = chunk_size + TAG_SIZE
    if payload_length < TAG_SIZE:
        raise DecryptionError()
    count = -(-payload_length // sealed_size)
    last = payload_length - (count - 1) * sealed_size
    if last < TAG_SIZE or (last == TAG_SIZE and count > 1) or count > MAX_CHUNKS:
        raise DecryptionError()
    return count


def decrypt_stream(
    key: bytes,
    prefix: bytes,
    aad: bytes,
    chunk_size: int,
    pieces: Iterable[bytes],
    payload_length: int,
) -> bytearray:
    """Decrypt a payload that arrives in arbitrary pieces; all or nothing.

    The lengths are checked before any decryption. The plaintext is written
    into one buffer of its exact size, which is only returned when the final
    chunk has been verified.
    """
    count = chunk_count(payload_length, chunk_size)
    sealed_size = chunk_size + TAG_SIZE
    output = bytearray(payload_length - count * TAG_SIZE)
    aead = AESGCM(key)
    buffer = bytearray()
    start = index = written = received = 0
    for piece in pieces:
        received += len(piece)
        if received > payload_length:
            raise DecryptionError()
        if start:
            del buffer[:start]
            start = 0
        buffer += piece
        while index < count:
            last = index == count - 1
            size = payload_length - index * sealed_size if last else sealed_size
            if len(buffer) - start < size:
                break
            try:
                plaintext = aead.decrypt(
                    chunk_nonce(prefix, index, last), bytes(buffer[start : start + size]), aad
                )
            except InvalidTag:
                raise DecryptionError() from None
            output[written : written + len(plaintext)] = plaintext
            written += len(plaintext)
            start += size
            index += 1
    if index != count or received != payload_length:
        raise DecryptionError()
    return output
