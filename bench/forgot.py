"""Benchmark "forgot your password?": does the answer take longer for an existing account?

Posts the address form for accounts with a security answer and for addresses without an
account, alternately (a new address each time: links are capped per account and hour).
The portal's relay is an SMTP server on loopback that waits `--relay-delay` seconds before
accepting each mail (a slow mail server). The mail to an account is prepared and sent from
a background thread, so the page should come back as fast either way. Each request is
timed alone (the previous one's mail job has finished). Prints the median and the 90th
percentile of each, and their ratio.

Run: .venv/bin/python bench/forgot.py [--rounds N] [--relay-delay SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller

from portal.accountmail import mailer
from tests.support.components import free_port
from tests.support.runtime import build_runtime, folder_environ
from webcrypt.runtime import Runtime


def customer(number: int) -> str:
    return f"kunde{number}@example.com"


def stranger(number: int) -> str:
    return f"niemand{number}@example.com"


class SlowSink:
    """An SMTP handler that takes `delay` seconds to accept each message."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


def build_portal(folder: Path, relay_port: int, accounts: int) -> tuple[Any, Runtime]:
    """Return a portal app on a fresh SQLite keystore with `accounts` accounts."""
    from portal import create_app

    relay = f"smtp://127.0.0.1:{relay_port}"
    runtime = build_runtime(folder_environ(folder, WEBCRYPT_FILTER_RELAY=relay), settings_ttl=0)
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        for number in range(accounts):
            recipient, _ = recipients.get_or_create(
                customer(number), created_by="berater@bank.example"
            )
            recipients.set_password(recipient, "benchmark password 2026")
            recipients.set_security_question(recipient, "first_pet", "Bello")
    app = create_app(
        runtime, {"SECRET_KEY": "bench", "TESTING": True, "RATELIMIT_LOGIN": "100000 per minute"}
    )
    return app, runtime


def timed_post(client: Any, address: str) -> float:
    page = client.get("/forgot")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
    assert token
    start = time.perf_counter()
    response = client.post("/forgot", data={"csrf_token": token.group(1), "email": address})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--relay-delay", type=float, default=0.2)
    args = parser.parse_args()
    sink = SlowSink(args.relay_delay)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app, runtime = build_portal(Path(folder), port, args.rounds)
            client = app.test_client()
            known: list[float] = []
            unknown: list[float] = []
            for number in range(args.rounds):
                # Each request alone: the previous one's mail job must not overlap it.
                known.append(timed_post(client, customer(number)))
                mailer(app).drain()
                unknown.append(timed_post(client, stranger(number)))
                mailer(app).drain()
            runtime.close()
    finally:
        controller.stop()

    def row(name: str, values: list[float]) -> float:
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<22} median {median * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms")
        return median

    print(f"relay delay {args.relay_delay * 1000:.0f} ms per mail, {args.rounds} rounds")
    a = row("account (link mailed)", known)
    b = row("no account", unknown)
    print(f"ratio account / no account: {a / b:.2f}; mails accepted by the relay: {sink.count}")


if __name__ == "__main__":
    main()
