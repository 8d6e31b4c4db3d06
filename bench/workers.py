"""Throughput of `webcrypt filter` with 1 and with 2 worker processes, in the same run.

    python bench/workers.py                       1000 mails of 20 KB per run, 2 rounds
    python bench/workers.py --count 2000 --rounds 3 --workers 1,2,4
    python bench/workers.py --keystore-url postgresql+psycopg://postgres@127.0.0.1/webcrypt_bench

Each run starts `webcrypt filter --workers N` on a fresh SQLite keystore, relaying to
Postfix's `smtp-sink` (C, so the sink costs the machine little), sends a warm-up mail (the
recipient's account and PIN, not measured), then times Postfix's `smtp-source -s 20`
(20 parallel sessions) sending `--count` mails of `--size` bytes with the trigger word to
that recipient. Runs alternate between the worker counts, so drifting load from other
processes hits each alike.

Printed per run: msg/s (counted as 2xx replies in the workers' /metrics, which the filter
gives only after the sink took the carrier), the cores the filter's processes kept busy
(their CPU seconds over the run's time), the share of CPU left idle on the machine during
the run (/proc/stat) and the load average; then the median msg/s per worker count
and its ratio to one worker. smtp-source and smtp-sink run on the same cores and count
against the filter.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import smtplib
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (
    ADVISER,
    free_port,
    smtp_sink,
    smtp_source,
    tree_cpu,
    webcrypt_filter,
)

CUSTOMER = "kunde@example.com"


def cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return idle, sum(fields[:8])


def answered(metrics_port: int, workers: int) -> int:
    """2xx replies of all workers so far (worker i serves /metrics on port + i)."""
    total = 0
    for slot in range(workers):
        url = f"http://127.0.0.1:{metrics_port + slot}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        found = re.search(r'^webcrypt_filter_messages_total\{reply="2xx"\} (\S+)$', text, re.M)
        total += int(float(found[1])) if found else 0
    return total


def one_run(workers: int, args: argparse.Namespace, sink_port: int) -> tuple[float, float, float]:
    """Start a filter with `workers` processes, time the load; return (msg/s, idle share,
    cores the filter used)."""
    settings = {
        "WEBCRYPT_KEYSTORE_MASTER_KEY": args.master_key,
        "WEBCRYPT_FILTER_WORKERS": str(workers),
    }
    if args.keystore_url:
        settings["WEBCRYPT_KEYSTORE_URL"] = args.keystore_url

    def warm_up(port: int) -> None:
        warmup = f"From: {ADVISER}\r\nSubject: WebCrypt warm-up\r\n\r\nhello\r\n"
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for _ in range(2 * workers):  # every worker has its account cache warm
                client.sendmail(ADVISER, [CUSTOMER], warmup)

    retry = (OSError, smtplib.SMTPException)
    with webcrypt_filter(
        sink_port, warm_up, settings=settings, timeout=120, retry=retry, poll=0.2
    ) as (process, port, metrics):
        before = answered(metrics, workers)
        idle_before, total_before = cpu_times()
        cpu_before = tree_cpu(process.pid)
        started = time.perf_counter()
        command = smtp_source(
            port,
            sessions=args.sessions,
            count=args.count,
            size=args.size,
            subject="Statement WebCrypt",
            to=("-t", CUSTOMER),
        )
        subprocess.run(command, check=True)
        elapsed = time.perf_counter() - started
        idle_after, total_after = cpu_times()
        cores = (tree_cpu(process.pid) - cpu_before) / elapsed
        done = answered(metrics, workers) - before
    if done != args.count:
        raise SystemExit(f"MISMATCH: sent {args.count}, the filter answered {done} with 2xx")
    idle = (idle_after - idle_before) / max(1, total_after - total_before)
    return args.count / elapsed, idle, cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument(
        "--keystore-url",
        default="",
        help="a database of its own for the keystore (default: a fresh SQLite file per run)",
    )
    args = parser.parse_args()
    counts = [int(value) for value in args.workers.split(",")]
    args.master_key = base64.b64encode(os.urandom(32)).decode()  # one for every run's keystore

    sink_port = free_port()
    sink = subprocess.Popen(smtp_sink(sink_port))
    results: dict[int, list[float]] = {count: [] for count in counts}
    try:
        time.sleep(0.5)
        print(
            f"{args.count} mails of {args.size} bytes, smtp-source -s {args.sessions}; "
            f"{len(os.sched_getaffinity(0))} cores"
        )
        for round_number in range(args.rounds):
            for workers in counts:
                rate, idle, cores = one_run(workers, args, sink_port)
                results[workers].append(rate)
                load = os.getloadavg()[0]
                print(
                    f"  round {round_number + 1} workers {workers}: {rate:7.1f} msg/s, "
                    f"filter used {cores:4.2f} cores, machine idle {idle:5.1%}, load {load:.2f}",
                    flush=True,
                )
    finally:
        sink.terminate()
        sink.wait(10)
    base = statistics.median(results[counts[0]])
    for workers in counts:
        median = statistics.median(results[workers])
        print(f"workers {workers}: median {median:7.1f} msg/s, {median / base:.2f}x of {counts[0]}")


if __name__ == "__main__":
    main()
