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
import base64
import os
import random
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KB = 1024
MB = 1024 * KB
ADVISER = "adviser@bank.example"
CUSTOMER = "kunde@mail.example"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def message(size: int, seed: int = 1) -> bytes:
    """A mail of about `size` bytes: some prose and a base64 attachment, like real mail."""
    rng = random.Random(seed)
    attachment = base64.encodebytes(rng.randbytes(max(0, size * 3 // 4 - 2000))).replace(
        b"\n", b"\r\n"
    )
    prose = b"Sehr geehrte Kundin, anbei die Unterlagen zu Ihrem Vertrag.\r\n" * 30
    return (
        (
            f"From: Anna Adviser <{ADVISER}>\r\nTo: {CUSTOMER}\r\nSubject: WebCrypt Unterlagen\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        ).encode()
        + prose
        + (
            b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="vertrag.pdf"\r\n\r\n'
        )
        + attachment
        + b"--b--\r\n"
    )


# -- the servers (each runs in its own process) ------------------------------------------------


def serve_sink(port: int) -> None:
    """Accept and discard."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 OK"

    class LongLines(SMTP):
        line_length_limit = MB

    class SinkController(Controller):
        def factory(self):  # type: ignore[no-untyped-def]
            return LongLines(self.handler, data_size_limit=None, enable_SMTPUTF8=True)

    SinkController(Sink(), hostname="127.0.0.1", port=port).start()
    threading.Event().wait()


def serve_baseline(port: int, sink_port: int) -> None:
    """aiosmtpd that relays every message unchanged with the filter's relay client."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

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

    class Big(SMTP):
        line_length_limit = MB

    class BaselineController(Controller):
        def factory(self):  # type: ignore[no-untyped-def]
            return Big(self.handler, data_size_limit=None, enable_SMTPUTF8=True)

    BaselineController(PassThrough(), hostname="127.0.0.1", port=port).start()
    threading.Event().wait()


def serve_filter(port: int, sink_port: int, data_dir: str) -> None:
    """The real filter with a fresh SQLite keystore under `data_dir`."""
    import logging

    from keystore.db import Keystore
    from keystore.masterkey import MasterKey
    from webcrypt.config.loader import load_config
    from webcrypt.runtime import Runtime
    from webcrypt.smtp.handler import FilterServer

    logging.basicConfig(level=logging.WARNING)
    env = {
        "WEBCRYPT_GENERAL_DATA_DIR": data_dir,
        "WEBCRYPT_FILTER_LISTEN": f"127.0.0.1:{port}",
        "WEBCRYPT_FILTER_RELAY": f"smtp://127.0.0.1:{sink_port}",
        "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
        "WEBCRYPT_FILTER_NEW_RECIPIENTS_PER_HOUR": "0",  # measures throughput, not the cap
        "WEBCRYPT_PORTAL_PUBLIC_URL": "https://portal.bank.example",
    }
    config = load_config(None, environ=env)
    master_key = MasterKey.generate()
    Keystore(config.keystore.url, master_key=master_key).upgrade()
    runtime = Runtime(config, master_key=master_key)
    FilterServer(runtime).start()
    threading.Event().wait()


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

    threads = [threading.Thread(target=session, args=(n,)) for n in per_session if n]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def drive_smtp_source(port: int, size: int, count: int, sessions: int) -> float:
    """Send with Postfix's smtp-source; return the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [
            SMTP_SOURCE,
            "-d",
            "-s",
            str(sessions),
            "-m",
            str(count),
            "-l",
            str(size),
            "-f",
            ADVISER,
            "-t",
            CUSTOMER,
            "-S",
            "WebCrypt bench",
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> int:
    """Peak resident memory of a process in bytes (VmHWM)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


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
        role, *rest = args.serve
        if role == "sink":
            serve_sink(int(rest[0]))
        elif role == "baseline":
            serve_baseline(int(rest[0]), int(rest[1]))
        else:
            serve_filter(int(rest[0]), int(rest[1]), rest[2])
        return

    plan = [(20 * KB, 100 if args.quick else 400), (2 * MB, 10 if args.quick else 40)]
    sink_port, filter_port, base_port = free_port(), free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="webcrypt-bench-")
    me = [sys.executable, __file__, "--serve"]
    if args.sink == "smtp-sink":
        # -u nobody: smtp-sink refuses to run as root otherwise.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        sink = [SMTP_SINK, *user, f"127.0.0.1:{sink_port}", "256"]
    else:
        sink = [*me, "sink", str(sink_port)]
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
