"""Benchmark the filter against a plain aiosmtpd pass-through relay, side by side.

    python bench/filter.py                    20 KB and 2 MB messages
    python bench/filter.py --quick            fewer messages
    python bench/filter.py --sink smtp-sink   Postfix's smtp-sink (C) as the sink

Three processes on loopback: a sink that accepts and discards, the filter (sealing every
message for one external recipient whose account exists, relaying into the sink), and the
baseline (aiosmtpd whose handler hands each message unchanged to the same pooled relay
client, into the same sink). The same client drives both with the same messages: smtplib
sessions in threads, and Postfix's `smtp-source` when it is installed. Printed per size:
messages per second and mean/95th percentile latency per message (best of the rounds; end of
DATA to 250, smtplib only), the ratio filter/baseline (median of alternating rounds, so both
see the same background load), the CPU time per message of each process (server, sink,
client: on a shared machine the steadier figure), and the peak resident memory of both servers.

On a machine with few CPUs the client, the sink and the server share them: throughput then
follows the total CPU time per message, and the sink's share counts for both servers. The
default sink is aiosmtpd (Python, like the servers, so it costs about as much per line as
they do); ``--sink smtp-sink`` uses Postfix's C sink, which costs next to nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import support
from bench.support import (
    ADVISER,
    CUSTOMER,
    KB,
    MB,
    SMTP_SOURCE,
    cpu_seconds,
    filter_environ,
    free_port,
    memory_status,
    message,
    serve_child,
    serve_sink,
    serve_smtp,
    smtp_sink,
    smtp_source,
    wait_port,
)
from tests.support.threads import run_at_once

# -- the servers (each runs in its own process) ------------------------------------------------


def serve_baseline(port: int, sink_port: int) -> None:
    """aiosmtpd that relays every message unchanged with the filter's relay client."""
    from webcrypt.smtp.relay import open_relay

    relay = open_relay(f"smtp://127.0.0.1:{sink_port}", timeout=60)

    class PassThrough:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            await relay.send_async(
                envelope.original_content,
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
            )
            return "250 OK"

    serve_smtp(PassThrough(), port)


def serve_filter(port: int, sink_port: int, data_dir: str) -> None:
    """The real filter with a fresh SQLite keystore under `data_dir`."""
    support.serve_filter(filter_environ(data_dir, port, sink_port))


# -- the client ------------------------------------------------------------------------------


_SENT = iter(range(1 << 62))


def drive(port: int, data: bytes, count: int, sessions: int) -> tuple[float, list[float]]:
    """Send `count` messages over `sessions` parallel connections; return (seconds, latencies).

    Each message gets a Message-ID of its own, as real mail has: the filter treats a
    transaction identical to one it may not have answered as its retry.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    per_session = [count // sessions + (1 if i < count % sessions else 0) for i in range(sessions)]

    def session(n: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
            for _ in range(n):
                mail = b"Message-ID: <%d.%d@bank.example>\r\n%s" % (os.getpid(), next(_SENT), data)
                started = time.perf_counter()
                client.sendmail(ADVISER, [CUSTOMER], mail)
                with lock:
                    latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    run_at_once(partial(session, n) for n in per_session if n)
    return time.perf_counter() - started, latencies


def drive_smtp_source(port: int, size: int, count: int, sessions: int) -> float:
    """Send with Postfix's smtp-source; return the seconds it took."""
    started = time.perf_counter()
    command = smtp_source(port, sessions=sessions, count=count, size=size, subject="WebCrypt bench")
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def peak_rss(pid: int) -> int:
    """Peak resident memory of a process in bytes (VmHWM)."""
    return memory_status(pid, "VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    parser.add_argument("--sessions", type=int, default=4, help="parallel SMTP sessions")
    parser.add_argument("--repeat", type=int, default=5, help="alternating rounds per case")
    parser.add_argument(
        "--sink",
        choices=("aiosmtpd", "smtp-sink"),
        default="aiosmtpd",
        help="the sink behind both servers (smtp-sink: Postfix's, written in C)",
    )
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        roles = {"sink": serve_sink, "baseline": serve_baseline, "filter": serve_filter}
        serve_child(args.serve, roles)
        return

    plan = [(20 * KB, 100 if args.quick else 400), (2 * MB, 10 if args.quick else 40)]
    sink_port, filter_port, base_port = free_port(), free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="webcrypt-bench-")
    me = [sys.executable, __file__, "--serve"]
    sink = smtp_sink(sink_port) if args.sink == "smtp-sink" else [*me, "sink", str(sink_port)]
    procs = {
        "sink": subprocess.Popen(sink),
        "filter": subprocess.Popen([*me, "filter", str(filter_port), str(sink_port), data_dir]),
        "baseline": subprocess.Popen([*me, "baseline", str(base_port), str(sink_port)]),
    }
    try:
        for port in (sink_port, filter_port, base_port):
            wait_port(port)
        # Warm up: the first message creates the recipient's account (argon2 for the PIN).
        for port in (filter_port, base_port):
            drive(port, message(20 * KB), 3, 1)
        idle = peak_rss(procs["filter"].pid)
        print(
            f"sessions={args.sessions}  rounds={args.repeat} (rates: best round)  "
            f"cpus={os.cpu_count()}  python={sys.version.split()[0]}  sink={args.sink}"
        )
        print(
            f"{'size':>7} {'server':>9} {'msgs':>5} {'msg/s':>8} {'mean ms':>8} {'p95 ms':>8}"
            f"   CPU ms/msg: {'server':>6} {'sink':>6} {'client':>6}"
        )
        results: dict[tuple[int, str], tuple[float, float]] = {}
        for size, count in plan:
            data = message(size)
            runs: dict[str, list[tuple[float, list[float]]]] = {"baseline": [], "filter": []}
            cpu: dict[str, list[tuple[float, float, float]]] = {"baseline": [], "filter": []}
            ratios = []
            # Baseline and filter alternate, so both see the same background load; the ratio
            # reported is the median of the per-round ratios.
            for _ in range(args.repeat):
                for name, port in (("baseline", base_port), ("filter", filter_port)):
                    server, sink_proc = procs[name].pid, procs["sink"].pid
                    before = (cpu_seconds(server), cpu_seconds(sink_proc), time.process_time())
                    runs[name].append(drive(port, data, count, args.sessions))
                    after = (cpu_seconds(server), cpu_seconds(sink_proc), time.process_time())
                    used = [(b - a) / count * 1000 for a, b in zip(before, after, strict=True)]
                    cpu[name].append((used[0], used[1], used[2]))
                ratios.append(runs["baseline"][-1][0] / runs["filter"][-1][0])
            for name in ("baseline", "filter"):
                seconds, latencies = min(runs[name], key=lambda run: run[0])
                rate = count / seconds
                mean = statistics.mean(latencies) * 1000
                p95 = sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000
                results[(size, name)] = (rate, mean)
                server_ms, sink_ms, client_ms = (
                    statistics.median(c) for c in zip(*cpu[name], strict=True)
                )
                print(
                    f"{size // KB:>5}KB {name:>9} {count:>5} {rate:>8.1f} {mean:>8.1f} {p95:>8.1f}"
                    f"               {server_ms:>6.2f} {sink_ms:>6.2f} {client_ms:>6.2f}"
                )
            ratio = statistics.median(ratios)
            added = results[(size, "filter")][1] - results[(size, "baseline")][1]
            print(
                f"{'':>7} filter/baseline throughput {ratio:.2f}x (median of {len(ratios)} "
                f"rounds: {', '.join(f'{r:.2f}' for r in ratios)}), time per message "
                f"{1 / ratio:.2f}x, added latency {added:+.1f} ms"
            )
        if shutil.which(SMTP_SOURCE):
            print(f"\nsmtp-source ({SMTP_SOURCE}, -s {args.sessions} -d):")
            for size, count in plan:
                timings = {}
                for name, port in (("baseline", base_port), ("filter", filter_port)):
                    seconds = drive_smtp_source(port, size, count, args.sessions)
                    timings[name] = count / seconds
                    print(f"{size // KB:>5}KB {name:>9} {count:>5} {count / seconds:>8.1f} msg/s")
                print(
                    f"{'':>7} filter/baseline throughput "
                    f"{timings['filter'] / timings['baseline']:.2f}x"
                )
        else:
            print(f"\n{SMTP_SOURCE} not installed: smtp-source run skipped")
        print(
            f"\npeak RSS: filter {peak_rss(procs['filter'].pid) / MB:.0f} MB "
            f"({idle / MB:.0f} MB after start-up), "
            f"baseline {peak_rss(procs['baseline'].pid) / MB:.0f} MB, "
            f"largest message {max(s for s, _ in plan) / MB:.0f} MB"
        )
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
