"""Benchmark the envelope: seal/open throughput, peak memory and secure.htm size.

    python bench/envelope.py           10 KB, 1 MB, 10 MB and 50 MB messages
    python bench/envelope.py --quick   10 KB, 100 KB and 1 MB

Two kinds of message are measured: a text-heavy mail (prose from a word list)
and a MIME mail whose attachment is incompressible data in base64. Throughput
is printed next to raw AES-256-GCM on the same bytes in the same run. Peak
memory is what tracemalloc sees allocated during the call, as a multiple of
the message size; the input handed to the call is not counted.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from webcrypt.envelope import RecipientKey, open, parse, seal
from webcrypt.sealing.securehtm import render_secure_htm

KB = 1000
MB = 1000 * KB
FULL_SIZES = [10 * KB, 1 * MB, 10 * MB, 50 * MB]
QUICK_SIZES = [10 * KB, 100 * KB, 1 * MB]
RECIPIENT = RecipientKey("kunde@mail.example", "k-kunde", 1, bytes(range(32)))
_WORD_LIST = (
    "the of and to in is that for it as with was on be by this are from or have an they which "
    "one you were her all she there would their we him been has when who will more no if out "
    "so said what up its about into than them can only other new some could time these two may "
    "then do first any my now such like our over man me even most made after also did many "
    "before must through back years where much your way well down should because each just "
    "those people how too little state good very make world still own see men work long get "
    "here between both life being under never day same another know while last might us great "
    "old year off come since against go came right used take three account contract loan rate "
    "interest payment balance statement mortgage insurance policy premium transfer deposit "
    "Vertrag Kredit Zins Konto Zahlung Guthaben Versicherung Antrag Unterlagen Termin Beratung "
    "Darlehen Sicherheit Tilgung Rate Laufzeit Bank Kunde bitte danke freundlichen Gruessen und "
    "der die das mit fuer wir Ihnen Sie auf den dem ist nicht auch es ein eine zu von"
)
WORDS = _WORD_LIST.split()


def text_message(size: int, seed: int = 1) -> bytes:
    """Return a plain-text mail of about `size` bytes of prose, in 72-column lines."""
    rng = random.Random(seed)
    header = (
        "From: Anna Adviser <adviser@bank.example>\r\nTo: kunde@mail.example\r\n"
        "Subject: Ihre Unterlagen\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    lines, line, total = [header], [], len(header)
    while total < size:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
        for word in (sentence[0].upper() + sentence[1:] + ".").split():
            if sum(len(w) + 1 for w in line) + len(word) > 72:
                text = " ".join(line) + "\r\n"
                lines.append(text)
                total += len(text)
                line = []
            line.append(word)
        if rng.random() < 0.15:
            lines.append("\r\n")
            total += 2
    return "".join(lines).encode("utf-8")[:size]


def attachment_message(size: int, seed: int = 2) -> bytes:
    """Return a MIME mail whose attachment is incompressible data in base64 lines."""
    head = (
        b"From: Anna Adviser <adviser@bank.example>\r\nTo: kunde@mail.example\r\n"
        b"Subject: Kontoauszug\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nAnbei Ihr Kontoauszug.\r\n\r\n--b1\r\n"
        b'Content-Type: application/pdf; name="auszug.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    tail = b"\r\n--b1--\r\n"
    room = max(0, size - len(head) - len(tail))
    data = random.Random(seed).randbytes(room * 3 // 4 + 3)
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")[:room]
    return head + body + tail


def best_time(action: Callable[[], object], budget: float = 0.3) -> float:
    """Return the best wall time of `action` over repeated runs within about `budget` s."""
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs < 2 or (spent < budget and runs < 50):
        start = time.perf_counter()
        action()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        runs += 1
    return best


def traced_peak(action: Callable[[], object]) -> int:
    """Return the peak of memory allocated while `action` runs (its result included)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(kind: str, message: bytes) -> dict[str, float]:
    """Measure one message; return the figures for one table row."""
    now = datetime.now(UTC)
    options = {
        "sender": "adviser@bank.example",
        "message_id": "<bench@bank.example>",
        "portal_url": "https://secure.bank.example",
        "expires": now + timedelta(days=30),
    }

    def do_seal() -> list[bytes]:
        sealed = seal(message, [RECIPIENT], **options)  # type: ignore[arg-type]
        return sealed.armored_pieces(RECIPIENT.address)

    armored = b"".join(do_seal()).decode("ascii")
    envelope = parse(armored)
    assert open(envelope, RECIPIENT.key) == message

    def do_open() -> bytes:
        return open(parse(armored), RECIPIENT.key)

    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    size = len(message)
    aes = best_time(lambda: aead.encrypt(nonce, message, None))
    sealing = best_time(do_seal)
    opening = best_time(do_open)
    html = render_secure_htm(armored, envelope.header)
    return {
        "size": size,
        "seal": size / sealing / MB,
        "open": size / opening / MB,
        "aes": size / aes / MB,
        "seal_peak": traced_peak(do_seal) / size,
        "open_peak": traced_peak(do_open) / size,
        "html": len(html.encode("ascii")) / size,
    }


def human(size: float) -> str:
    """Format a byte count as KB/MB."""
    return f"{size / MB:g} MB" if size >= MB else f"{size / KB:g} KB"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (up to 1 MB)")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    print(
        f"{'message':<11}{'size':>8} {'seal MB/s':>10}{'open MB/s':>10}{'AES-GCM MB/s':>13}"
        f"{'AES/seal':>9}{'AES/open':>9}{'peak seal':>10}{'peak open':>10}"
        f"{'htm/orig':>9}"
    )
    for kind, make in (("text", text_message), ("attachment", attachment_message)):
        for size in sizes:
            row = measure(kind, make(size))
            print(
                f"{kind:<11}{human(row['size']):>8} {row['seal']:>10.0f}{row['open']:>10.0f}"
                f"{row['aes']:>13.0f}"
                f"{row['aes'] / row['seal']:>8.1f}x{row['aes'] / row['open']:>8.1f}x"
                f"{row['seal_peak']:>9.2f}x{row['open_peak']:>9.2f}x{row['html']:>9.3f}"
            )
    print(
        "\nseal = seal() + armored_pieces() for one recipient (the envelope in pieces, as the\n"
        "filter writes it); open = parse() + open().\n"
        "AES/seal, AES/open: how many times faster raw AES-256-GCM is on the same bytes.\n"
        "peak: tracemalloc peak during the call / message size (the call's input not counted).\n"
        "htm/orig: size of the rendered secure.htm / size of the original message."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
