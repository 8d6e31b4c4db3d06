"""What the benchmark scripts share: the sample parties and mail, loopback ports, the servers
they start (a discarding sink, the filter), Postfix's smtp-source and smtp-sink, and CPU and
memory figures read from /proc.

Only the standard library is imported at module level: the measured server processes import
this module too, and their resident memory is part of what some benchmarks print.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webcrypt.runtime import Runtime

KB = 1024
MB = 1024 * KB
ADVISER = "adviser@bank.example"
CUSTOMER = "kunde@mail.example"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
WEBCRYPT = str(Path(sys.executable).with_name("webcrypt"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A free TCP port on loopback, below 60000: a filter's worker i serves /metrics on the
    metrics port + i, so the next few ports must be ports too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < 60000:
            return port


def wait_port(port: int, timeout: float = 30.0) -> None:
    """Wait until something listens on loopback `port`; exit when nothing does in time."""
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


def serve_child(command: Sequence[str], roles: Mapping[str, Callable[..., None]]) -> None:
    """Run the server a benchmark started as a child of its own (``--serve ROLE ARG...``):
    `roles` maps ROLE to the function that serves; a numeric ARG is passed as a port (int)."""
    role, *arguments = command
    roles[role](*(int(argument) if argument.isdecimal() else argument for argument in arguments))


def filter_environ(data_dir: str, port: int, sink_port: int, **overrides: str) -> dict[str, str]:
    """WEBCRYPT_* settings of a filter on loopback `port` that relays into `sink_port`.

    New recipients are not capped: the benchmarks measure throughput, not the cap.
    """
    return {
        "WEBCRYPT_GENERAL_DATA_DIR": data_dir,
        "WEBCRYPT_FILTER_LISTEN": f"127.0.0.1:{port}",
        "WEBCRYPT_FILTER_RELAY": f"smtp://127.0.0.1:{sink_port}",
        "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
        "WEBCRYPT_FILTER_NEW_RECIPIENTS_PER_HOUR": "0",
        "WEBCRYPT_PORTAL_PUBLIC_URL": "https://portal.bank.example",
        **overrides,
    }


def serve_smtp(handler: object, port: int, *, smtputf8: bool = True) -> None:
    """Serve aiosmtpd with `handler` on loopback `port` until the process is killed.

    Lines of up to 1 MB and messages of any size are accepted.
    """
    # Imported here: the benchmarks that never start this server do not load aiosmtpd.
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class LongLines(SMTP):
        line_length_limit = MB

    class LongLinesController(Controller):
        def factory(self):  # type: ignore[no-untyped-def]
            return LongLines(self.handler, data_size_limit=None, enable_SMTPUTF8=smtputf8)

    LongLinesController(handler, hostname="127.0.0.1", port=port).start()
    threading.Event().wait()


class Discard:
    """An aiosmtpd handler that accepts every message and keeps none."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "250 OK"


def serve_sink(port: int) -> None:
    """Accept and discard on loopback `port` until the process is killed."""
    serve_smtp(Discard(), port)


def smtp_sink(port: int, *options: str, backlog: int = 256) -> list[str]:
    """The command line of Postfix's smtp-sink on loopback `port` (as nobody when root:
    smtp-sink refuses to run as root otherwise)."""
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    return [SMTP_SINK, *user, *options, f"127.0.0.1:{port}", str(backlog)]


def smtp_source(
    port: int,
    *,
    sessions: int,
    count: int,
    size: int,
    subject: str,
    to: Sequence[str] = ("-t", CUSTOMER),
) -> list[str]:
    """The command line of Postfix's smtp-source: `count` mails of `size` bytes from ADVISER
    over `sessions` parallel sessions to loopback `port`; `to` are the recipient options."""
    return [
        *(SMTP_SOURCE, "-d", "-s", str(sessions), "-m", str(count), "-l", str(size)),
        *("-f", ADVISER, *to, "-S", subject, f"127.0.0.1:{port}"),
    ]


def filter_runtime(
    environ: Mapping[str, str] | None = None, *, settings: Mapping[str, object] | None = None
) -> Runtime:
    """The filter's runtime, configured from `environ` (by default the process's), with a
    fresh master key and the keystore migrated, `settings` stored."""
    # Imported here: a benchmark's client process does not load the gateway.
    from keystore.db import Keystore
    from keystore.masterkey import MasterKey
    from webcrypt.config.loader import load_config
    from webcrypt.runtime import Runtime

    logging.basicConfig(level=logging.WARNING)
    config = load_config(None, environ=environ)
    master_key = MasterKey.generate()
    keystore = Keystore(config.keystore.url, master_key=master_key)
    keystore.upgrade()
    if settings:
        with keystore.session() as session:
            keystore.settings(session).update(dict(settings), actor="bench")
    keystore.engine.dispose()
    return Runtime(config, master_key=master_key)


def serve_filter(
    environ: Mapping[str, str] | None = None,
    *,
    settings: Mapping[str, object] | None = None,
    return_buffers: bool = False,
) -> None:
    """Run the real filter in this process until it is killed, on `filter_runtime`.

    `return_buffers` sets the allocator as `webcrypt filter` does when it starts the filter.
    """
    # Imported here: a benchmark's client process does not load the gateway.
    from webcrypt.runtime import return_large_buffers
    from webcrypt.smtp.handler import FilterServer

    runtime = filter_runtime(environ, settings=settings)
    if return_buffers:
        return_large_buffers()
    FilterServer(runtime).start()
    threading.Event().wait()


@contextmanager
def webcrypt_filter(
    relay_port: int,
    ready: Callable[[int], object],
    *,
    settings: Mapping[str, str],
    timeout: float,
    retry: tuple[type[BaseException], ...] = (OSError,),
    poll: float = 0.1,
) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """Run `webcrypt init`, then `webcrypt filter`, on a fresh data folder (and keystore,
    unless `settings` name one), relaying into `relay_port`; yield (process, SMTP port,
    metrics port) once `ready(SMTP port)` passed (retried while it raises `retry`).

    The filter's settings are `settings` and those of filter_environ, not this process's.
    """
    workdir = Path(tempfile.mkdtemp(prefix="webcrypt-bench-"))
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCRYPT_")}
    env.update(
        filter_environ(
            str(workdir),
            port,
            relay_port,
            WEBCRYPT_GENERAL_LOG_LEVEL="warning",
            WEBCRYPT_FILTER_METRICS_LISTEN=f"127.0.0.1:{metrics_port}",
            **settings,
        )
    )
    log_path = workdir / "filter.log"
    try:
        with log_path.open("wb") as log:
            subprocess.run([WEBCRYPT, "init"], env=env, stdout=log, stderr=log, check=True)
            process = subprocess.Popen([WEBCRYPT, "filter"], env=env, stdout=log, stderr=log)
            try:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        ready(port)
                        break
                    except retry:
                        if process.poll() is not None or time.monotonic() > deadline:
                            raise SystemExit(log_path.read_text()) from None
                        time.sleep(poll)
                yield process, port, metrics_port
            finally:
                process.terminate()
                process.wait(timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Add --backend (repeatable: sqlite, postgresql) and --postgresql-url to `parser`."""
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql"), action="append", dest="backends"
    )
    parser.add_argument(
        "--postgresql-url", default=os.environ.get("WEBCRYPT_TEST_POSTGRESQL_URL", DEFAULT_PG)
    )


@contextmanager
def fresh_database(backend: str, postgresql_url: str) -> Iterator[tuple[str, Path]]:
    """Yield the URL of an empty keystore database and a data folder, removed afterwards
    (on PostgreSQL a throwaway database on the server of `postgresql_url`)."""
    # Imported here: the measured server processes do not load SQLAlchemy for this.
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    with tempfile.TemporaryDirectory(prefix="wc-bench-") as name:
        folder = Path(name)
        if backend == "sqlite":
            yield f"sqlite:///{folder}/keystore.db", folder
            return
        database = f"wc_bench_{secrets.token_hex(4)}"
        admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {database}"))
        try:
            url = make_url(postgresql_url).set(database=database)
            yield url.render_as_string(hide_password=False), folder
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            admin.dispose()


def load_average() -> str:
    """The load averages of the last 1, 5 and 15 minutes, as printed next to figures."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], quantile: float) -> float:
    """The `quantile` of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else 0.0


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User plus system CPU seconds process `pid` has used so far (with its reaped children
    when `children`); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process `pid` and its live children (a filter's workers);
    0 once it is gone."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return sum(cpu_seconds(member) for member in [pid, *map(int, children)])


def memory_status(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)
