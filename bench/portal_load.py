"""Load test of the portal: concurrent recipients opening, reading and replying.

    python bench/portal_load.py                        20 recipients x 5 rounds
    python bench/portal_load.py --recipients 50 --rounds 3 \
        --keystore-url postgresql+psycopg://postgres@127.0.0.1:5432/webcrypt_bench

(--keystore-url must name an empty database of its own: the run creates the schema in it.)

A `webcrypt filter` and a `webcrypt portal` process run on one keystore (a fresh SQLite
file unless --keystore-url is given); the filter seals one message per recipient into a
recording sink, and every recipient logs in once with the PIN and chooses a password (the
set-up, not measured). Then each recipient, in its own thread and with its own client
address (X-Forwarded-For through one trusted proxy hop, so per-address rate limits apply per
recipient as they would in production), repeats: post the envelope to /open, open it
(/read), start a reply (/reply) and send it (/reply/send). Printed: requests per second,
p50/p99 per step, and the count of replies at the sink (must equal the replies sent).
Each round sends a reply, and the portal allows ten per minute per address: keep
--rounds at 10 or below.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import percentile  # noqa: E402
from tests.e2e.browser import Browser, first_login  # noqa: E402
from tests.e2e.gateway import PIN, Gateway, body_text, secure_htm, sort_mail  # noqa: E402
from tests.support.components import free_port  # noqa: E402
from tests.support.smtp import RecordingSink  # noqa: E402
from webcrypt.sealing.securehtm import extract_envelope  # noqa: E402

STEPS = ("open", "read", "reply", "send")


def set_up(base: str, sink: RecordingSink, filter_port: int, count: int) -> list[tuple]:
    """Seal one message per recipient and do every first login; return (address, envelope)."""
    import smtplib

    run = os.urandom(3).hex()
    addresses = [f"reader{n}.{run}@example.com" for n in range(count)]
    with smtplib.SMTP("127.0.0.1", filter_port, timeout=120) as client:
        for address in addresses:
            body = "Statement: " + base64.b64encode(os.urandom(15000)).decode()
            message = (
                f"From: Adviser <adviser@bank.example>\r\nTo: <{address}>\r\n"
                f"Subject: WebCrypt statement\r\n\r\n{body}\r\n"
            )
            client.sendmail("adviser@bank.example", [address], message.encode())
    arrived = sort_mail(sink.wait_for(2 * count, timeout=120))
    users = []
    for number, address in enumerate(addresses):
        (carrier,) = arrived.carriers_to(address)
        pin = PIN.search(next(body_text(p) for p in arrived.pins if address in body_text(p)))
        assert pin is not None
        envelope = extract_envelope(secure_htm(carrier))
        browser = Browser(f"10.1.{number // 250}.{number % 250 + 1}")
        page = first_login(browser, base, envelope, address, pin[1])
        assert page.status == 200, page.text[:500]
        users.append((address, envelope, browser))
    sink.clear()
    return users


def recipient(base: str, envelope: str, browser: Browser, rounds: int, timings: dict) -> None:
    """One recipient's rounds of open, read, reply, send."""
    for _ in range(rounds):
        for step, path, fields, carry in (
            ("open", "/open", {"envelope": envelope}, False),
            ("read", "/read", {"envelope": envelope}, True),
            ("reply", "/reply", {"envelope": envelope, "mode": "reply"}, True),
            ("send", "/reply/send", {"envelope": envelope, "body": "Thank you."}, True),
        ):
            started = time.perf_counter()
            page = browser.post(base + path, fields, carry=carry)
            elapsed = time.perf_counter() - started
            if page.status != 200:
                raise SystemExit(f"{step}: HTTP {page.status}\n{page.text[:800]}")
            timings[step].append(elapsed)


def main() -> None:
    """Run the portal load test and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8, help="portal worker threads")
    parser.add_argument("--keystore-url", default="")
    args = parser.parse_args()

    import tempfile

    root = Path(tempfile.mkdtemp(prefix="webcrypt-portal-load-"))
    with RecordingSink() as sink:
        settings = {
            "WEBCRYPT_PORTAL_PUBLIC_URL": "http://portal.test",
            "WEBCRYPT_PORTAL_TRUSTED_PROXIES": "1",
            "WEBCRYPT_PORTAL_THREADS": str(args.threads),
            "WEBCRYPT_GENERAL_LOG_LEVEL": "warning",
        }
        gateway = Gateway(
            root, relay_url=sink.url, keystore_url=args.keystore_url or None, **settings
        )
        try:
            gateway.init()
            filter_port = free_port()
            gateway.filter(filter_port)
            _process, base = gateway.portal()
            users = set_up(base, sink, filter_port, args.recipients)
            timings: dict[str, list[float]] = {step: [] for step in STEPS}
            threads = [
                threading.Thread(
                    target=recipient, args=(base, envelope, browser, args.rounds, timings)
                )
                for _address, envelope, browser in users
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            sent = len(timings["send"])
            sink.wait_for(sent, timeout=60)
            time.sleep(0.5)
        finally:
            gateway.stop()
            shutil.rmtree(root, ignore_errors=True)
    requests = sum(len(values) for values in timings.values())
    print(f"recipients        {args.recipients} concurrent, {args.rounds} rounds each")
    print(f"throughput        {requests / elapsed:.1f} requests/s ({requests} in {elapsed:.1f} s)")
    for step in STEPS:
        values = timings[step]
        print(
            f"  {step:<6}          p50 {percentile(values, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} ms ({len(values)} requests)"
        )
    replies = [m for m in sink.messages if re.search(rb"Thank you\.", m.data)]
    print(f"received          {len(replies)} replies at the sink (sent {sent})")
    if len(replies) != sent:
        raise SystemExit("MISMATCH: the sink did not receive every reply")


if __name__ == "__main__":
    main()
