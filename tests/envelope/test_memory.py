"""Sealing and opening stay within 2.5 times the message size in traced memory.

Sealing hands the envelope on in pieces: what it allocates is about the encoded payload
(base64 of the compressed message) and a few slices of work, not a copy per step.
"""

from __future__ import annotations

import base64
import os
import tracemalloc
from collections.abc import Callable

import pytest

from tests.envelope.conftest import recipient, seal_for
from webcrypt.envelope import open, parse

ALICE = recipient("alice")
SIZE = 8 * 1024 * 1024


def peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        result = action()
        del result
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def attachment_message() -> bytes:
    lines = base64.encodebytes(os.urandom(SIZE * 3 // 4)).replace(b"\n", b"\r\n")
    return b"Content-Type: application/pdf\r\n\r\n" + lines[:SIZE]


def test_seal_and_open_peak_memory(attachment_message: bytes) -> None:
    sealed_peak = peak(lambda: seal_for(attachment_message, [ALICE]).armored_pieces(ALICE.address))
    armored = seal_for(attachment_message, [ALICE]).armored(ALICE.address)
    envelope = parse(armored)
    opened_peak = peak(lambda: open(envelope, ALICE.key))
    assert sealed_peak <= 1.5 * len(attachment_message)
    assert opened_peak <= 2.5 * len(attachment_message)
