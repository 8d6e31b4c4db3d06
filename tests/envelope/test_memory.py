"""Sealing and opening stay within 2.5 times the message size in traced memory.

Sealing hands the envelope on in pieces: what it allocates is about the encoded payload
(base64 of the compressed message) and a few slices of work, not a copy per step.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

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


_SEAL_IN_A_FRESH_PROCESS = """
import base64, random, sys
from datetime import UTC, datetime, timedelta

from webcrypt.envelope import RecipientKey, seal
from webcrypt.runtime import return_large_buffers
from webcrypt.sealing.carrier import attachment_pieces
from webcrypt.sealing.securehtm import secure_htm_pieces


def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))


def carrier(message):
    key = RecipientKey("kunde@mail.example", "k", 1, bytes(32))
    now = datetime.now(UTC)
    sealed = seal(
        message, [key], sender="adviser@bank.example", message_id="<m@bank.example>",
        portal_url="https://portal.bank.example", expires=now + timedelta(days=30),
    )
    armored = sealed.armored_pieces(key.address, final_newline=False)
    page = secure_htm_pieces(armored, sealed.headers[key.address])
    for piece in attachment_pieces(page, neutral=False).serialized().slices():
        pass  # what the relay writes, a slice at a time


return_large_buffers()  # as every process of the gateway does when it starts
carrier(b"Subject: warm-up\\r\\n\\r\\nhello\\r\\n")
before = status("VmRSS:")
size = int(sys.argv[1])
lines = base64.encodebytes(random.Random(1).randbytes(size * 3 // 4)).replace(b"\\n", b"\\r\\n")
message = b"Content-Type: application/pdf\\r\\n\\r\\n" + lines[:size]
del lines
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak of making the message does not count, the message does
carrier(message)
print((status("VmHWM:") - before) / len(message))
"""


def test_sealing_20_mb_in_a_fresh_process_peaks_below_2_5_times_its_size() -> None:
    """Resident memory, not traced allocations: zstd's and OpenSSL's buffers count too."""
    size = 20 * 1024 * 1024
    result = subprocess.run(
        [sys.executable, "-c", _SEAL_IN_A_FRESH_PROCESS, str(size)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    ratio = float(result.stdout)
    assert 1.0 <= ratio < 2.5, ratio
