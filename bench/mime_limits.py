"""Benchmark the MIME limit scan (`webcrypt.mail.mimelimits.check`) against parsing the message.

    python bench/mime_limits.py            every case, best of 5 runs each
    python bench/mime_limits.py --runs 3

Printed per case: its size, the scan's time (and microseconds per MB), the time Python's
email parser takes for the same bytes (``BytesParser(policy=policy.default)``, what the
portal and the upload use), and the ratio. The hostile cases show what the scan saves: it
stops at the first limit broken, where the parser builds every part first.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import sys
import time
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webcrypt.mail.mimelimits import MimeLimitError, MimeLimits, check

MB = 1024 * 1024
LIMITS = MimeLimits()


def attachment_mail(size: int) -> bytes:
    """A text part and one base64 attachment of about `size` bytes."""
    data = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n")
    return (
        b"From: a@bank.example\r\nTo: c@cust.example\r\nSubject: report\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
        b"--b\r\nContent-Type: application/pdf; name=r.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + data + b"--b--\r\n"
    )


def text_mail(size: int) -> bytes:
    """A long plain-text mail with short lines (many lines to look at)."""
    line = b"-- quoted text with a dash or two -- and more words here\r\n"
    return b"Subject: minutes\r\n\r\n" + line * (size // len(line))


def multipart_text(size: int, line: bytes) -> bytes:
    """A multipart/alternative whose text part is `size` bytes of `line`."""
    return (
        b'Subject: text\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n" + line * (size // len(line)) + b"--b--\r\n"
    )


def single_line(size: int) -> bytes:
    return b"Subject: one line\r\n\r\n" + b"x" * size + b"\r\n"


def many_parts(count: int) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % i for i in range(count))
    return b'Subject: hostile\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' + body


def deep(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    return b"Subject: deep\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi\r\n"


def best(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.suppress(MimeLimitError, RecursionError):
            action()
        times.append(time.perf_counter() - started)
    return min(times)


def scan(raw: bytes) -> Callable[[], None]:
    return lambda: check(raw, LIMITS)


def parse(raw: bytes) -> Callable[[], object]:
    return lambda: BytesParser(policy=policy.default).parsebytes(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases = [
        ("10 MB attachment", attachment_mail(10 * MB)),
        ("2 MB plain text", text_mail(2 * MB)),
        ("1 MB single line", single_line(MB)),
        ("2 MB text part, '-- ' lines", multipart_text(2 * MB, b"-- quoted\r\n> text\r\n")),
        ("10 MB of mid-line dashes", multipart_text(10 * MB, b"a--b--c\r\n")),
        ("60,000 parts (refused)", many_parts(60_000)),
        ("2,000 levels deep (refused)", deep(2_000)),
    ]
    print(f"python={sys.version.split()[0]}  runs={args.runs} (best)  limits={LIMITS}")
    columns = ("size", "scan ms", "us/MB", "parse ms", "parse/scan")
    print(f"{'case':<30} " + " ".join(f"{column:>9}" for column in columns))
    for name, raw in cases:
        scanned = best(scan(raw), args.runs)
        parsed = best(parse(raw), max(1, args.runs // 2))
        size = len(raw) / MB
        print(
            f"{name:<30} {size:>7.2f}MB {scanned * 1000:>9.3f} {scanned * 1e6 / size:>9.1f} "
            f"{parsed * 1000:>9.1f} {parsed / scanned:>9.0f}x"
        )


if __name__ == "__main__":
    main()
