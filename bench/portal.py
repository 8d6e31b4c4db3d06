"""Benchmark the portal: upload of secure.htm -> rendered message page, against envelope.open.

For messages of about 100 KB, 2 MB and 10 MB this measures, in one run:

* the portal: a logged-in recipient uploads secure.htm (multipart) and gets the rendered
  message page back (Flask test client in-process: parsing the upload, extracting and
  checking the envelope, keystore look-ups, decryption, MIME parsing, rendering);
* the envelope's own parse + open of the same armored text (wall and CPU time, and the
  ratio portal / open of each);
* peak memory (tracemalloc) of one portal open and of one envelope open;
* where the portal's time goes, in more opens with timers around its steps: extract (the
  envelope out of secure.htm, with its header parsed), unarmor (envelope.parse elsewhere), decrypt
  (envelope.open), parse (the MIME tree), view (decoding parts, headers, attachments;
  without parse and sanitize), sanitize (nh3 on HTML bodies), render (the page template
  with the carried envelope), client (the test client encoding the upload: not the
  portal's time), and the rest (the upload's multipart parsing, keystore look-ups, the
  response).

Run: .venv/bin/python bench/portal.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.runtime import build_runtime, folder_environ, seal_for
from webcrypt import envelope
from webcrypt.runtime import Runtime
from webcrypt.sealing.securehtm import extract_envelope, render_secure_htm

ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.com"
PASSWORD = "benchmark password 2026"
SIZES = {"100 KB": 100 * 1024, "2 MB": 2 * 1024 * 1024, "10 MB": 10 * 1024 * 1024}


def build_message(size: int) -> bytes:
    """Return a mail of about `size` bytes: short text plus an incompressible PDF attachment."""
    message = EmailMessage(policy=SMTP)
    message["From"] = ADVISER
    message["To"] = CUSTOMER
    message["Subject"] = "Benchmark"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@bank.example>"
    message.set_content("Guten Tag,\nanbei die Unterlagen.\n")
    # base64 in the mail adds a third (and line breaks); aim for the total size.
    payload = max(1024, int(size * 0.735) - 1024)
    message.add_attachment(
        os.urandom(payload), maintype="application", subtype="pdf", filename="scan.pdf"
    )
    return message.as_bytes()


def make_runtime(directory: Path) -> Runtime:
    """Build a runtime on a fresh SQLite keystore (with the real password hashing)."""
    return build_runtime(folder_environ(directory), fast=False)


def seal_for_customer(runtime: Runtime, raw: bytes) -> str:
    """Seal `raw` for the customer as the filter does (account, key, ledger); return secure.htm."""
    sealed = seal_for(runtime, raw, to=CUSTOMER, sender=ADVISER, days=30)
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipient = recipients.get(CUSTOMER)
        assert recipient is not None
        if recipient.password_hash is None:
            recipients.set_password(recipient, PASSWORD)
    return render_secure_htm(sealed.armored, sealed.header)


def csrf(page: bytes) -> str:
    """Return the CSRF token of a page."""
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token"
    return match.group(1).decode()


class Split:
    """Time spent in some of the portal's steps while it is patched in (one open).

    Each step is patched in the module that calls it, where the name was imported.
    """

    STEPS = (
        ("client", "werkzeug.test", "stream_encode_multipart"),  # the test client's side
        ("extract", "portal.reader", "read_envelope"),
        ("unarmor", "webcrypt.envelope", "parse"),
        ("decrypt", "webcrypt.envelope", "open"),
        ("parse", "portal.mimeview", "parse"),
        ("view", "portal.reading", "build_view"),
        ("sanitize", "portal.mimeview", "clean_html"),
        ("render", "portal.reading", "render_template"),
    )

    def __init__(self) -> None:
        self.seconds = dict.fromkeys((step for step, _, _ in self.STEPS), 0.0)
        self.runs = 0

    def measure(self, action: Callable[[], object]) -> float:
        """Run `action` with the steps timed; return its total time."""
        import importlib

        self.runs += 1
        originals = []
        for step, module_name, name in self.STEPS:
            module = importlib.import_module(module_name)
            original = getattr(module, name)
            originals.append((module, name, original))
            setattr(module, name, self._timed(step, original))
        try:
            start = time.perf_counter()
            action()
            return time.perf_counter() - start
        finally:
            for module, name, original in originals:
                setattr(module, name, original)

    def _timed(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[step] += time.perf_counter() - start

        return timed

    def line(self, total: float) -> str:
        """The mean split in milliseconds; view excludes parse and sanitize (run inside)."""
        seconds = {step: value / self.runs for step, value in self.seconds.items()}
        seconds["view"] -= seconds["parse"] + seconds["sanitize"]
        seconds["other"] = total - sum(
            value / self.runs
            for step, value in self.seconds.items()
            if step not in ("parse", "sanitize")  # inside view
        )
        return " ".join(f"{step} {value * 1000:.1f}" for step, value in seconds.items())


def median_time(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the median wall time and the median CPU time of `action` in seconds.

    CPU time (this process) is less disturbed than wall time when other work shares
    the machine.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def peak_memory(action: Callable[[], object]) -> int:
    """Return the peak Python memory allocated while `action` runs, in bytes."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def measure(client: Any, runtime: Runtime, label: str, size: int, repeat: int) -> None:
    """Time and measure one message size; print its line."""
    raw = build_message(size)
    secure_htm = seal_for_customer(runtime, raw).encode()
    armored = extract_envelope(secure_htm)
    token = csrf(client.get("/upload").data)

    def portal_open() -> None:
        result = client.post(
            "/upload",
            data={"csrf_token": token, "file": (io.BytesIO(secure_htm), "secure.htm")},
            content_type="multipart/form-data",
        )
        assert result.status_code == 200 and b"scan.pdf" in result.data, result.status

    def envelope_open() -> None:
        with runtime.keystore.session() as session:
            recipients = runtime.keystore.recipients(session)
            recipient = recipients.get(CUSTOMER)
            parsed = envelope.parse(armored)
            key = recipients.key(recipient.id, parsed.header.key_version)
        assert envelope.open(parsed, key) == raw

    portal_open()  # warm up templates and caches
    portal_seconds, portal_cpu = median_time(portal_open, repeat)
    open_seconds, open_cpu = median_time(envelope_open, repeat)
    portal_peak = peak_memory(portal_open)
    open_peak = peak_memory(envelope_open)
    split = Split()
    total = sum(split.measure(portal_open) for _ in range(repeat)) / repeat
    print(
        f"{label:>8} {len(secure_htm) / 2**20:>7.1f}MB {portal_seconds * 1000:>7.1f}ms "
        f"{open_seconds * 1000:>7.1f}ms {portal_seconds / open_seconds:>5.1f}x "
        f"{portal_peak / 2**20:>10.1f}MB {open_peak / 2**20:>8.1f}MB "
        f"{portal_cpu * 1000:>7.1f}ms {open_cpu * 1000:>7.1f}ms {portal_cpu / open_cpu:>5.1f}x"
    )
    print(f"{'':>8} split (ms, mean of {repeat}): {split.line(total)}")
    server = total - split.seconds["client"] / split.runs
    print(f"{'':>8} without the test client's upload encoding: {server / open_seconds:.1f}x")


def main() -> None:
    """Run the benchmark and print one line per message size."""
    from portal import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=0, help="runs per size (default: by size)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        runtime = make_runtime(Path(directory))
        app = create_app(
            runtime,
            {
                "SECRET_KEY": "benchmark",
                "RATELIMIT_OPEN": "100000 per minute",
                "RATELIMIT_UPLOAD": "100000 per minute",
                "RATELIMIT_LOGIN": "100000 per minute",
            },
        )
        client = app.test_client()
        seal_for_customer(runtime, build_message(1024))  # account with a password
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"csrf_token": csrf(page.data), "email": CUSTOMER, "password": PASSWORD},
        )
        assert response.status_code == 302, "login failed"

        print(
            f"{'message':>8} {'envelope':>9} {'portal':>9} {'open':>9} {'ratio':>6} "
            f"{'portal peak':>12} {'open peak':>10} {'portal cpu':>9} {'open cpu':>9} {'ratio':>6}"
        )
        for label, size in SIZES.items():
            measure(client, runtime, label, size, args.repeat or (20 if size < 2**20 else 5))
        runtime.close()


if __name__ == "__main__":
    main()
