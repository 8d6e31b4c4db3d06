"""Decompression bombs: the declared and the actual size are held to the limit while opening.

The envelopes here are sealed properly (the payload authenticates), but their zstd frames
say one size and expand to another, so only the size checks stand between them and memory.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator

import pytest
import zstandard

from tests.envelope.conftest import recipient, seal_for
from webcrypt.envelope import DecryptionError, MessageTooLarge, open, parse, sealing
from webcrypt.envelope.armor import Base64Lines
from webcrypt.envelope.stream import StreamEncryptor

ALICE = recipient("alice")
LIMIT = 1024 * 1024
BOMB = 256 * 1024 * 1024
"""What the bomb frames expand to: 256 times the limit."""


def zeros_frame(size: int, *, content_size: bool = True) -> bytes:
    """A zstd frame of `size` zero bytes (a few kilobytes), made without holding them."""
    compressor = zstandard.ZstdCompressor(level=1, write_content_size=content_size)
    stream = compressor.compressobj(size=size if content_size else -1)
    piece = bytes(1 << 20)
    out = [stream.compress(piece) for _ in range(size // len(piece))]
    return b"".join([*out, stream.compress(bytes(size % len(piece))), stream.flush()])


def with_content_size(frame: bytes, declared: int) -> bytes:
    """Rewrite the 4-byte Frame_Content_Size field of `frame` to `declared`."""
    descriptor = frame[4]
    assert descriptor >> 6 == 2, "expected a 4-byte content size field"
    start = 5 + (0 if descriptor & 0x20 else 1)  # the window byte, unless single segment
    return frame[:start] + declared.to_bytes(4, "little") + frame[start + 4 :]


@pytest.fixture
def payload(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bytes, int], str]]:
    """Seal an envelope that declares `size` but carries the given compressed payload."""

    def seal_frame(frame: bytes, size: int) -> str:
        def encrypt(
            message: object, key: bytes, prefix: bytes, aad: bytes, chunk: int
        ) -> list[bytes]:
            encryptor = StreamEncryptor(key, prefix, aad, chunk)
            lines = Base64Lines()
            for sealed_chunk in [*encryptor.feed(frame), encryptor.finish()]:
                lines.feed(sealed_chunk)
            return lines.pieces()

        with monkeypatch.context() as patch:
            patch.setattr(sealing, "_encrypt_payload", encrypt)
            return seal_for(bytes(size), [ALICE]).armored(ALICE.address)

    yield seal_frame


def peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    except DecryptionError:
        pass
    finally:
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return traced


def test_a_declared_size_over_the_limit_is_refused_before_decrypting(
    payload: Callable[[bytes, int], str],
) -> None:
    envelope = parse(payload(zeros_frame(BOMB), BOMB))
    assert envelope.header.message_size == BOMB
    with pytest.raises(MessageTooLarge, match="larger than this portal can open"):
        open(envelope, ALICE.key, max_size=LIMIT)
    # Not even a wrong key gets further: the size is checked first.
    with pytest.raises(MessageTooLarge):
        open(envelope, bytes(32), max_size=LIMIT)
    assert peak(lambda: open(envelope, ALICE.key, max_size=LIMIT)) < LIMIT


def test_a_frame_that_expands_beyond_its_declared_size_fails_within_the_limit(
    payload: Callable[[bytes, int], str],
) -> None:
    """The header and the frame both say 1,000 bytes; the frame holds 256 MB of zeros."""
    frame = with_content_size(zeros_frame(BOMB), 1000)
    assert zstandard.frame_content_size(frame) == 1000
    envelope = parse(payload(frame, 1000))
    with pytest.raises(DecryptionError):
        open(envelope, ALICE.key, max_size=LIMIT)
    assert peak(lambda: open(envelope, ALICE.key, max_size=LIMIT)) < LIMIT


def test_a_frame_without_content_size_is_refused(payload: Callable[[bytes, int], str]) -> None:
    envelope = parse(payload(zeros_frame(BOMB, content_size=False), 1000))
    with pytest.raises(DecryptionError):
        open(envelope, ALICE.key, max_size=LIMIT)
    assert peak(lambda: open(envelope, ALICE.key, max_size=LIMIT)) < LIMIT


def test_a_frame_shorter_than_declared_is_refused(payload: Callable[[bytes, int], str]) -> None:
    frame = with_content_size(zeros_frame(100_000), 500_000)
    envelope = parse(payload(frame, 500_000))
    with pytest.raises(DecryptionError):
        open(envelope, ALICE.key, max_size=LIMIT)


def test_a_message_exactly_at_the_limit_opens() -> None:
    message = bytes(range(256)) * (LIMIT // 256)
    envelope = parse(seal_for(message, [ALICE]).armored(ALICE.address))
    assert open(envelope, ALICE.key, max_size=LIMIT) == message
    with pytest.raises(MessageTooLarge):
        open(envelope, ALICE.key, max_size=LIMIT - 1)
