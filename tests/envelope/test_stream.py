"""The chunked AEAD on its own: every length around the chunk boundaries, any piece sizes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webcrypt.envelope import DecryptionError
from webcrypt.envelope.stream import StreamEncryptor, chunk_count, decrypt_stream

KEY = bytes(range(32))
PREFIX = b"prefix7"
AAD = b"a" * 32
SIZE = 64


def encrypt(plaintext: bytes, pieces: list[int] | None = None) -> list[bytes]:
    encryptor = StreamEncryptor(KEY, PREFIX, AAD, SIZE)
    chunks: list[bytes] = []
    position = 0
    for piece in pieces or [len(plaintext)]:
        chunks += encryptor.feed(plaintext[position : position + piece])
        position += piece
    chunks += encryptor.feed(plaintext[position:])
    chunks.append(encryptor.finish())
    return chunks


def decrypt(chunks: list[bytes], pieces: int = 1000) -> bytes:
    payload = b"".join(chunks)
    split = [payload[i : i + pieces] for i in range(0, len(payload), pieces)]
    return bytes(decrypt_stream(KEY, PREFIX, AAD, SIZE, split, len(payload)))


@pytest.mark.parametrize("length", [0, 1, SIZE - 1, SIZE, SIZE + 1, 2 * SIZE, 3 * SIZE + 5])
def test_lengths_around_chunk_boundaries(length: int) -> None:
    plaintext = os.urandom(length)
    chunks = encrypt(plaintext)
    assert len(chunks) == max(1, -(-length // SIZE))
    assert all(len(chunk) == SIZE + 16 for chunk in chunks[:-1])
    assert decrypt(chunks) == plaintext


@given(
    st.binary(max_size=600),
    st.lists(st.integers(min_value=0, max_value=200), max_size=8),
    st.integers(min_value=1, max_value=300),
)
@settings(max_examples=100, deadline=None)
def test_piece_sizes_do_not_matter(plaintext: bytes, feeds: list[int], pieces: int) -> None:
    assert b"".join(encrypt(plaintext, feeds)) == b"".join(encrypt(plaintext))
    assert decrypt(encrypt(plaintext, feeds), pieces) == plaintext


def test_full_last_chunk_cannot_be_dropped() -> None:
    chunks = encrypt(os.urandom(2 * SIZE))
    assert len(chunks) == 2
    with pytest.raises(DecryptionError):
        decrypt(chunks[:1])


def test_empty_final_chunk_cannot_be_appended() -> None:
    chunks = encrypt(os.urandom(SIZE))
    with pytest.raises(DecryptionError):
        decrypt([*chunks, encrypt(b"")[0]])


@pytest.mark.parametrize(
    ("length", "expected"),
    [(16, 1), (80, 1), (80 + 17, 2), (160, 2), (160 + 17, 3)],
)
def test_chunk_count(length: int, expected: int) -> None:
    assert chunk_count(length, SIZE) == expected


@pytest.mark.parametrize("length", [0, 15, 81, 80 + 16, 160 + 16])
def test_impossible_payload_lengths(length: int) -> None:
    with pytest.raises(DecryptionError):
        chunk_count(length, SIZE)


def test_more_bytes_than_announced() -> None:
    payload = b"".join(encrypt(b"abc"))
    with pytest.raises(DecryptionError):
        decrypt_stream(KEY, PREFIX, AAD, SIZE, [payload, b"x"], len(payload))
    with pytest.raises(DecryptionError):
        decrypt_stream(KEY, PREFIX, AAD, SIZE, [payload[:-1]], len(payload))
