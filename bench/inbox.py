"""Benchmark the customer's inbox: listing a full mailbox, and opening a 10 MB message.

For each backend (SQLite, and PostgreSQL on the server given by --postgresql-url, default
WEBCRYPT_TEST_POSTGRESQL_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test, in a
throwaway database), in one run:

* listing: a logged-in customer with --messages stored messages (each with its own sealed
  summary) asks for the first page and a page in the middle of the inbox (50 lines each,
  every summary opened with the customer's key); p50 and p99 of the wall time of the
  whole request through the Flask test client (goal: p99 < 50 ms);
* opening: GET /inbox/<id> of a stored 10 MB message (the envelope read back from the
  mailbox's chunks, checked, decrypted, parsed and rendered) against decrypting the same
  envelope alone (parse + open with the key from the keystore), wall and CPU time, median
  of --repeat runs (goal: at most 2x), with the split: reading the chunks, decrypting,
  and the rest (checks, MIME parsing, rendering).

Run: .venv/bin/python bench/inbox.py [--messages N] [--repeat N] [--backend sqlite]
Print the load average next to the figures (the script does): on a shared machine, wall
times move with it, the ratios less so.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.support import add_backend_options, fresh_database, load_average
from tests.support.runtime import Sealed, build_runtime, folder_environ, seal_for, store_sealed
from webcrypt import envelope
from webcrypt.runtime import Runtime

ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.com"
PASSWORD = "benchmark password 2026"
TEN_MB = 10 * 1024 * 1024


def build_message(size: int, subject: str = "Benchmark") -> bytes:
    """Return a mail of about `size` bytes: short text plus an incompressible PDF attachment."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Berta Berater <{ADVISER}>"
    message["To"] = CUSTOMER
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0100"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@bank.example>"
    message.set_content("Guten Tag,\nanbei die Unterlagen.\n")
    payload = max(1024, int(size * 0.735) - 1024)  # base64 adds a third and line breaks
    message.add_attachment(
        os.urandom(payload), maintype="application", subtype="pdf", filename="scan.pdf"
    )
    return message.as_bytes()


def store(runtime: Runtime, raw: bytes, *, sealed: Sealed | None = None) -> str:
    """Seal `raw` for the customer (or store `sealed` again as another message), store it
    with its summary; return the entry id."""
    if sealed is None:
        sealed = seal_for(runtime, raw, to=CUSTOMER, sender=ADVISER, days=30)
    message_id = f"{uuid.uuid4().hex}@bank.example"
    return store_sealed(runtime, raw, sealed, message_id=message_id, quota=2**40)


def log_in(client: Any, runtime: Runtime) -> None:
    """Give the customer a password and log the client in."""
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipient = recipients.get(CUSTOMER)
        assert recipient is not None
        recipients.set_password(recipient, PASSWORD)
    page = client.get("/login").data
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1).decode(), "email": CUSTOMER, "password": PASSWORD},
    )
    assert response.status_code == 302, response.status_code


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def timed(action: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Run `action` `repeat` times; return the wall and CPU seconds of each run."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


class Split:
    """Time reading the stored chunks and decrypting inside the portal's open."""

    STEPS = (
        ("chunks", "keystore.mailbox", "MailboxService", "envelope"),
        ("decrypt", "webcrypt.envelope", None, "open"),
    )

    def __init__(self) -> None:
        self.seconds = dict.fromkeys((step for step, *_ in self.STEPS), 0.0)

    def measure(self, action: Callable[[], object]) -> float:
        """Run `action` with the steps timed; return its total time."""
        import importlib

        originals = []
        for step, module_name, owner, name in self.STEPS:
            module = importlib.import_module(module_name)
            holder = getattr(module, owner) if owner else module
            original = getattr(holder, name)
            originals.append((holder, name, original))
            setattr(holder, name, self._timed(step, original))
        try:
            start = time.perf_counter()
            action()
            return time.perf_counter() - start
        finally:
            for holder, name, original in originals:
                setattr(holder, name, original)

    def _timed(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[step] += time.perf_counter() - start

        return run


def run(backend: str, messages: int, repeat: int, postgresql_url: str) -> None:
    """Fill one backend's mailbox and print the listing and opening figures."""
    from portal import create_app

    with fresh_database(backend, postgresql_url) as (url, folder):
        (folder / "outbox").mkdir()
        environ = folder_environ(folder, WEBCRYPT_KEYSTORE_URL=url)
        runtime = build_runtime(environ)
        try:
            app = create_app(
                runtime,
                {"SECRET_KEY": "bench", "RATELIMIT_OPEN": "100000 per minute"},
            )
            client = app.test_client()
            small = build_message(2 * 1024)
            sealed = seal_for(runtime, small, to=CUSTOMER, sender=ADVISER, days=30)
            started = time.perf_counter()
            for number in range(messages):
                raw = small.replace(b"Subject: Benchmark", f"Subject: Nachricht {number}".encode())
                store(runtime, raw, sealed=sealed)
            filled = time.perf_counter() - started
            print(f"\n== {backend}: {messages:,} messages stored in {filled:.1f} s")
            log_in(client, runtime)

            middle = max(1, messages // 100)
            for label, path in (("page 1", "/inbox"), (f"page {middle}", f"/inbox?page={middle}")):

                def listing(path: str = path) -> None:
                    response = client.get(path)
                    assert response.status_code == 200 and b"inbox-item" in response.data

                listing()  # warm up
                walls, cpus = timed(listing, repeat * 11)
                wall = [percentile(walls, share) * 1000 for share in (0.5, 0.99)]
                cpu = [percentile(cpus, share) * 1000 for share in (0.5, 0.99)]
                print(
                    f"listing {label:>9}: wall p50 {wall[0]:6.1f} ms p99 {wall[1]:6.1f} ms; "
                    f"CPU p50 {cpu[0]:6.1f} ms p99 {cpu[1]:6.1f} ms "
                    f"({len(walls)} requests, goal < 50 ms)"
                )

            raw = build_message(TEN_MB - 100 * 1024)
            big = store(runtime, raw)
            with runtime.keystore.session() as session:
                recipient = runtime.keystore.recipients(session).get(CUSTOMER)
                assert recipient is not None
                stored = runtime.keystore.mailbox(session).envelope(int(recipient.id), big)
                assert stored is not None
            big_text = stored.decode("ascii")

            def portal_open() -> None:
                response = client.get(f"/inbox/{big}")
                assert response.status_code == 200 and b"scan.pdf" in response.data

            def envelope_open() -> None:
                with runtime.keystore.session() as session:
                    recipients = runtime.keystore.recipients(session)
                    parsed = envelope.parse(big_text)
                    key = recipients.key(int(recipient.id), parsed.header.key_version)
                assert envelope.open(parsed, key) == raw

            portal_open()  # warm up
            portal_walls, portal_cpus = timed(portal_open, repeat)
            open_walls, open_cpus = timed(envelope_open, repeat)
            portal_wall, open_wall = statistics.median(portal_walls), statistics.median(open_walls)
            portal_cpu, open_cpu = statistics.median(portal_cpus), statistics.median(open_cpus)
            print(
                f"open 10 MB ({len(stored) / 2**20:.1f} MB stored): portal "
                f"{portal_wall * 1000:.0f} ms vs decrypt alone {open_wall * 1000:.0f} ms = "
                f"{portal_wall / open_wall:.2f}x wall; CPU {portal_cpu * 1000:.0f} vs "
                f"{open_cpu * 1000:.0f} ms = {portal_cpu / open_cpu:.2f}x (goal <= 2x)"
            )
            split = Split()
            total = sum(split.measure(portal_open) for _ in range(repeat)) / repeat
            chunks = split.seconds["chunks"] / repeat
            decrypt = split.seconds["decrypt"] / repeat
            print(
                f"  split (ms, mean of {repeat}): chunks {chunks * 1000:.0f}, decrypt "
                f"{decrypt * 1000:.0f}, rest {(total - chunks - decrypt) * 1000:.0f} "
                f"(checks, MIME parsing, rendering, the test client)"
            )
        finally:
            runtime.close()


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=9)
    add_backend_options(parser)
    options = parser.parse_args()
    print(f"load average before: {load_average()}")
    for backend in options.backends or ["sqlite", "postgresql"]:
        run(backend, options.messages, options.repeat, options.postgresql_url)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
