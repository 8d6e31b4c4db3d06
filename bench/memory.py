"""Peak memory of the filter and of `webcrypt seal` against the message size.

    python bench/memory.py            1, 10 and 50 MB, 8 x 10 MB at once, `webcrypt seal` 50 MB
    python bench/memory.py --quick    1 and 10 MB, 8 x 2 MB at once, `webcrypt seal` 10 MB

Every case runs in a fresh process: a real filter (SQLite keystore) on loopback relaying into
Postfix's smtp-sink (or an aiosmtpd sink when smtp-sink is missing), or the `webcrypt seal`
command. Each message is sealed for one external recipient whose account exists already (the
first message to a new recipient costs the argon2 memory of its PIN hash once; printed
separately). The mail is prose plus a base64 attachment of incompressible data, as real mail
with a PDF or a photo is.

Filter: the peak resident memory (VmHWM) is reset after the warm-up message (``5`` written to
``/proc/PID/clear_refs``); the figure is the peak while the message(s) pass minus the resident
memory just before. `webcrypt seal`: the peak (GNU time's maximum resident size) of sealing the
message minus that of sealing a 1 KB message, both in fresh processes. Ratios are to the
message size (for 8 at once: to the size of all 8).
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import (  # noqa: E402
    ADVISER,
    CUSTOMER,
    KB,
    MB,
    SMTP_SINK,
    filter_environ,
    free_port,
    load_average,
    memory_status,
    message,
    serve_child,
    serve_filter,
    serve_sink,
    smtp_sink,
    wait_port,
)
from tests.support.threads import run_at_once  # noqa: E402

WEBCRYPT = [sys.executable, "-m", "webcrypt.cli.main"]
GNU_TIME = "/usr/bin/time"
LIMIT = 60 * MB
"""The largest message the measured filter accepts (the admin setting)."""


def environment(data_dir: str, port: int, sink_port: int) -> dict[str, str]:
    """The filter's configuration in the environment."""
    return {
        **os.environ,
        **filter_environ(
            data_dir,
            port,
            sink_port,
            WEBCRYPT_GENERAL_LOG_LEVEL="warning",
            WEBCRYPT_FILTER_TRUSTED_NETWORKS="127.0.0.0/8",
        ),
    }


def serve_limited_filter() -> None:
    """The real filter, configured from the environment, with a 60 MB size limit."""
    serve_filter(settings={"max_message_size": LIMIT}, return_buffers=True)


def reset_peak(pid: int) -> int:
    """Reset the process's VmHWM to its current resident size; return that size."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")
    return memory_status(pid, "VmRSS")


def send(port: int, data: bytes, to: str = CUSTOMER) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=600) as client:
        client.sendmail(ADVISER, [to], data)


class Filter:
    """A fresh filter process with its sink, for one case (SQLite, or `keystore_url`)."""

    def __init__(self, keystore_url: str = "") -> None:
        self.data_dir = tempfile.mkdtemp(prefix="webcrypt-memory-")
        self.port, sink_port = free_port(), free_port()
        if shutil.which(SMTP_SINK):
            sink = smtp_sink(sink_port)
        else:
            sink = [sys.executable, __file__, "--serve", "sink", str(sink_port)]
        self.sink = subprocess.Popen(sink)
        env = environment(self.data_dir, self.port, sink_port)
        if keystore_url:
            env["WEBCRYPT_KEYSTORE_URL"] = keystore_url
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", "filter"], env=env)
        wait_port(sink_port, timeout=60)
        wait_port(self.port, timeout=60)

    def warm_up(self) -> int:
        """Send a first small message (the account and its PIN hash); return the peak it cost."""
        before = reset_peak(self.proc.pid)
        send(self.port, message(20 * KB))
        send(self.port, message(20 * KB))
        return memory_status(self.proc.pid, "VmHWM") - before

    def close(self) -> None:
        for proc in (self.proc, self.sink):
            proc.terminate()
        for proc in (self.proc, self.sink):
            proc.wait(10)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def filter_case(size: int, count: int) -> tuple[float, float]:
    """Peak above the resident size before, for `count` messages of `size` at once (MiB)."""
    server = Filter()
    try:
        server.warm_up()
        data = message(size)
        before = reset_peak(server.proc.pid)
        run_at_once([partial(send, server.port, data)] * count)
        peak = memory_status(server.proc.pid, "VmHWM") - before
        return peak / MB, peak / (len(data) * count)
    finally:
        server.close()


def first_contact() -> float:
    """What the first (20 KB) message to a new recipient adds to the peak (MiB)."""
    server = Filter()
    try:
        return server.warm_up() / MB
    finally:
        server.close()


def first_contacts(count: int, postgres: str) -> float:
    """Peak of `count` small first messages to new recipients at once (argon2 each), MiB.

    SQLite lets one transaction write at a time, so new accounts are made one after the
    other anyway; on PostgreSQL (`postgres`: a database name, emptied first) they overlap.
    """
    url = ""
    if postgres:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", postgres])
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", postgres], check=True)
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{postgres}"
    server = Filter(url)
    try:
        server.warm_up()
        data = message(20 * KB)
        before = reset_peak(server.proc.pid)
        run_at_once(partial(send, server.port, data, f"neu{n}@mail.example") for n in range(count))
        return (memory_status(server.proc.pid, "VmHWM") - before) / MB
    finally:
        server.close()


def seal_peak(data_dir: str, mail: Path) -> int:
    """Peak resident memory of one `webcrypt seal` process, in bytes.

    Measured by GNU time when it is there: a child's ru_maxrss seen by this process starts
    from this (large) process's resident size at the fork.
    """
    env = {
        **os.environ,
        "WEBCRYPT_GENERAL_DATA_DIR": data_dir,
        "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
        "WEBCRYPT_PORTAL_PUBLIC_URL": "https://portal.bank.example",
    }
    command = [*WEBCRYPT, "seal", "--to", CUSTOMER, "-o", f"{mail}.htm", str(mail)]
    report = Path(data_dir, "time.txt")
    timed = [GNU_TIME, "-f", "%M", "-o", str(report)] if Path(GNU_TIME).exists() else []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen([*timed, *command], env=env, **quiet)
    _, code, usage = os.wait4(proc.pid, 0)
    if code:
        raise SystemExit(f"webcrypt seal failed ({code})")
    kib = int(report.read_text().split()[-1]) if timed else usage.ru_maxrss
    return kib * 1024


def seal_case(size: int) -> tuple[float, float, float]:
    """Peak of `webcrypt seal` for `size` above that for 1 KB (MiB, ratio), and in all (MiB)."""
    data_dir = tempfile.mkdtemp(prefix="webcrypt-seal-")
    try:
        small, big = Path(data_dir, "small.eml"), Path(data_dir, "big.eml")
        small.write_bytes(message(KB))
        data = message(size)
        big.write_bytes(data)
        subprocess.run(
            [*WEBCRYPT, "init"],
            env={**os.environ, "WEBCRYPT_GENERAL_DATA_DIR": data_dir},
            check=False,
            capture_output=True,
        )
        seal_peak(data_dir, small)  # creates the account (its PIN hash)
        baseline = seal_peak(data_dir, small)
        whole = seal_peak(data_dir, big)
        peak = whole - baseline
        return peak / MB, peak / len(data), whole / MB
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller messages")
    parser.add_argument(
        "--postgres",
        metavar="DB",
        default="",
        help="PostgreSQL database (on 127.0.0.1, emptied) for the burst of first mails",
    )
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(args.serve, {"sink": serve_sink, "filter": serve_limited_filter})
        return 0
    sizes = [1 * MB, 10 * MB] if args.quick else [1 * MB, 10 * MB, 50 * MB]
    together = 2 * MB if args.quick else 10 * MB
    seal_size = 10 * MB if args.quick else 50 * MB
    print(f"load average {load_average()}  cpus={os.cpu_count()}")
    print(f"{'case':<34}{'peak above start MiB':>21}{'x size':>8}")
    for size in sizes:
        mib, ratio = filter_case(size, 1)
        print(f"{f'filter, one {size // MB} MiB mail':<34}{mib:>21.1f}{ratio:>8.2f}")
    mib, ratio = filter_case(together, 8)
    print(f"{f'filter, 8 x {together // MB} MiB at once':<34}{mib:>21.1f}{ratio:>8.2f}")
    print(f"{'filter, first mail to a new account':<34}{first_contact():>21.1f}")
    keystore = "PostgreSQL" if args.postgres else "SQLite"
    burst = first_contacts(8, args.postgres)
    print(f"{f'filter, 8 first mails at once, {keystore}':<34}{burst:>21.1f}")
    mib, ratio, whole = seal_case(seal_size)
    print(
        f"{f'webcrypt seal, {seal_size // MB} MiB':<34}{mib:>21.1f}{ratio:>8.2f}"
        f"   (peak RSS {whole:.0f} MiB in all)"
    )
    print(f"load average {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
