"""Load test: a fixed number of messages through a `webcrypt filter` process into a sink.

    python bench/load.py                          1000 messages, smtp-source when installed
    python bench/load.py --count 200 --driver python
    python bench/load.py --keystore-url postgresql+psycopg://postgres@127.0.0.1/webcrypt_bench

(--keystore-url must name an empty database of its own, e.g. `createdb webcrypt_bench`:
the run creates the schema in it.)

The filter runs as its own process (configured by WEBCRYPT_* variables, a fresh SQLite
keystore unless --keystore-url is given) and relays into a counting sink in this process.
Every message is from an internal adviser, carries the trigger word and goes to one external
recipient, so each is sealed. A share of the recipients is new (account, key and a PIN mail
to the adviser); the rest go to a small pool of known recipients, created in a warm-up that
is not measured. Sizes are a mix (``--sizes 20000:70,200000:25,2000000:5``, bytes:weight).

Drivers: Postfix's ``smtp-source`` (one invocation per size class and new/known part, run in
parallel; its payload is a repeated filler line, so it compresses well) or smtplib sessions
in threads (payload: base64 of random bytes, like an attachment). Latency is the time from
sending the message to the filter's 250, which the filter gives only after the sink took the
carrier: with smtplib it is measured per message, with smtp-source it is read from the
filter's duration histogram (``/metrics``), interpolated within buckets.

Printed: messages per second, p50/p99 latency, CPU seconds per message and peak resident
memory of the filter process, and the count at the sink (carriers must equal messages sent,
PIN mails must equal new recipients).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import smtplib
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (
    ADVISER,
    SMTP_SOURCE,
    cpu_seconds,
    free_port,
    memory_status,
    percentile,
    smtp_source,
    webcrypt_filter,
)
from tests.support.threads import run_at_once

KNOWN_POOL = 20


@dataclass(frozen=True)
class Job:
    """One message to send."""

    size: int
    recipient: str
    new: bool


class CountingSink:
    """aiosmtpd sink that counts carriers and PIN mails and throws the content away."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.carriers = 0
        self.pins = 0
        self.port = free_port()
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, data_size_limit=None
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Count one message: a PIN mail goes to the adviser, a carrier to a customer."""
        with self.lock:
            if envelope.rcpt_tos == [ADVISER]:
                self.pins += 1
            else:
                self.carriers += len(envelope.rcpt_tos)
        return "250 2.0.0 OK"

    def start(self) -> int:
        """Start; return the port."""
        self.controller.start()
        return self.port

    def reset(self) -> None:
        """Forget the counts (after the warm-up)."""
        with self.lock:
            self.carriers = self.pins = 0

    def wait(self, carriers: int, pins: int, timeout: float) -> None:
        """Wait until the expected counts arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.carriers >= carriers and self.pins >= pins:
                return
            time.sleep(0.05)


@contextmanager
def filter_process(args: argparse.Namespace, relay_port: int) -> Iterator[tuple[int, int, int]]:
    """Run `webcrypt filter`; yield (pid, SMTP port, metrics port)."""
    settings = {
        "WEBCRYPT_KEYSTORE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "WEBCRYPT_FILTER_MAX_TRANSACTIONS": str(args.concurrency),
    }
    if args.keystore_url:
        settings["WEBCRYPT_KEYSTORE_URL"] = args.keystore_url

    def ready(port: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
            client.noop()

    with webcrypt_filter(relay_port, ready, settings=settings, timeout=60) as running:
        process, port, metrics_port = running
        yield process.pid, port, metrics_port


def process_stats(pid: int) -> tuple[float, int]:
    """CPU seconds used so far and peak resident memory (bytes) of process `pid`."""
    return cpu_seconds(pid), memory_status(pid, "VmHWM")


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Parse "bytes:weight,..."."""
    return [(int(size), int(weight)) for size, weight in (p.split(":") for p in text.split(","))]


def plan(count: int, sizes: list[tuple[int, int]], new_share: float, run: str) -> list[Job]:
    """The messages of one run: sizes by weight, every n-th recipient new."""
    rng = random.Random(run)
    total = sum(weight for _, weight in sizes)
    jobs = []
    for index in range(count):
        size = sizes[-1][0]
        pick = rng.uniform(0, total)
        for candidate, weight in sizes:
            pick -= weight
            if pick <= 0:
                size = candidate
                break
        new = rng.random() < new_share
        rcpt = f"new{index}.{run}@example.org" if new else f"known{index % KNOWN_POOL}@example.com"
        jobs.append(Job(size, rcpt, new))
    return jobs


def message(job: Job) -> bytes:
    """A message of about `job.size` bytes: headers plus base64 lines of random bytes."""
    raw = os.urandom(job.size * 3 // 4)
    body = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    head = (
        f"From: Adviser <{ADVISER}>\r\nTo: <{job.recipient}>\r\n"
        f"Subject: Statement WebCrypt\r\nMessage-ID: <{os.urandom(8).hex()}@bank.example>\r\n\r\n"
    )
    return head.encode() + body


def drive_python(jobs: list[Job], port: int, concurrency: int) -> list[float]:
    """Send the jobs from `concurrency` smtplib sessions; return each message's latency."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    latencies: list[float] = []

    def worker() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                data = message(job)
                started = time.perf_counter()
                client.sendmail(ADVISER, [job.recipient], data)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)

    run_at_once([worker] * concurrency)
    return latencies


def drive_smtp_source(jobs: list[Job], port: int, concurrency: int, run: str) -> None:
    """Send the jobs with smtp-source: one invocation per (size, new/known) group, in parallel."""
    groups: dict[tuple[int, bool], int] = {}
    for job in jobs:
        groups[(job.size, job.new)] = groups.get((job.size, job.new), 0) + 1
    commands = []
    for (size, new), count in sorted(groups.items()):
        sessions = max(1, round(concurrency * count / len(jobs)))
        target = (
            ["-N", "-t", f"new.{size}.{run}@example.org"] if new else ["-t", "known0@example.com"]
        )
        commands.append(
            smtp_source(
                port,
                sessions=sessions,
                count=count,
                size=size,
                subject="Statement WebCrypt",
                to=target,
            )
        )
    running = [subprocess.Popen(command) for command in commands]
    for process in running:
        if process.wait() != 0:
            raise SystemExit(f"smtp-source failed: {process.args!r}")


HISTOGRAM = "webcrypt_filter_transaction_seconds_bucket"


def histogram(metrics_port: int) -> dict[float, float]:
    """Read the filter's transaction duration histogram: upper bound -> cumulative count."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(HISTOGRAM + "{"):
            bound = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.split()[-1])
    return buckets


def histogram_percentiles(
    before: dict[float, float], after: dict[float, float], quantiles: tuple[float, ...]
) -> list[float]:
    """Interpolate `quantiles` (seconds) of what the histogram recorded between two readings."""
    buckets = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = buckets[-1][1] if buckets else 0.0
    result = []
    for quantile in quantiles:
        wanted, lower, below = quantile * total, 0.0, 0.0
        for bound, cumulative in buckets:
            if cumulative >= wanted:
                width = (cumulative - below) or 1.0
                top = bound if bound != float("inf") else lower
                result.append(lower + (top - lower) * (wanted - below) / width)
                break
            lower, below = bound, cumulative
    return result or [float("nan")] * len(quantiles)


def main() -> None:
    """Run the load test and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--new-share", type=float, default=0.05)
    parser.add_argument("--sizes", default="20000:70,200000:25,2000000:5")
    parser.add_argument("--driver", choices=["auto", "smtp-source", "python"], default="auto")
    parser.add_argument("--keystore-url", default="")
    args = parser.parse_args()
    driver = args.driver
    if driver == "auto":
        driver = "smtp-source" if os.access(SMTP_SOURCE, os.X_OK) else "python"
    run = os.urandom(3).hex()
    jobs = plan(args.count, parse_sizes(args.sizes), args.new_share, run)
    new = sum(job.new for job in jobs)

    sink = CountingSink()
    sink_port = sink.start()
    try:
        with filter_process(args, sink_port) as (pid, port, metrics_port):
            warmup = [Job(1000, f"known{i}@example.com", False) for i in range(KNOWN_POOL)]
            drive_python(warmup, port, 4)
            sink.wait(KNOWN_POOL, KNOWN_POOL, 60)
            sink.reset()
            cpu_before, _ = process_stats(pid)
            readings = histogram(metrics_port)
            started = time.perf_counter()
            latencies: list[float] = []
            if driver == "python":
                latencies = drive_python(jobs, port, args.concurrency)
            else:
                drive_smtp_source(jobs, port, args.concurrency, run)
            elapsed = time.perf_counter() - started
            cpu_after, peak = process_stats(pid)
            sink.wait(len(jobs), new, 30)
            if latencies:
                p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
                source = "per message"
            else:
                p50, p99 = histogram_percentiles(readings, histogram(metrics_port), (0.5, 0.99))
                source = "filter histogram, interpolated"
    finally:
        sink.controller.stop()

    mix = ", ".join(
        f"{size // 1000} KB x{sum(j.size == size for j in jobs)}"
        for size, _ in parse_sizes(args.sizes)
    )
    print(f"driver            {driver} ({args.concurrency} sessions)")
    print(f"messages          {len(jobs)} ({mix}); new recipients {new}")
    print(f"throughput        {len(jobs) / elapsed:.1f} messages/s ({elapsed:.1f} s)")
    print(f"latency           p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms ({source})")
    print(f"filter CPU        {(cpu_after - cpu_before) / len(jobs) * 1000:.1f} ms per message")
    print(f"filter peak RSS   {peak / 2**20:.0f} MiB")
    print(
        f"received          {sink.carriers} carriers (sent {len(jobs)}), "
        f"{sink.pins} PIN mails (new {new})"
    )
    if sink.carriers != len(jobs) or sink.pins != new:
        raise SystemExit("MISMATCH: the sink did not receive what was sent")


if __name__ == "__main__":
    main()
