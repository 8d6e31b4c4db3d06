"""Benchmark storing in the secure mailbox through the filter, against the attachment method.

    python bench/mailbox.py                      10,000 messages of 100 KB, 100 accounts
    python bench/mailbox.py --count 1000         a quick run
    python bench/mailbox.py --backend sqlite     one backend only (default: sqlite and postgresql)

Per backend, two filters run side by side on one fresh keystore database each, relaying into
the same discarding sink (see bench/filter.py): one with ``[mailbox] default_method =
"attachment"`` (the carrier with secure.htm goes out), one with ``"mailbox"`` (the envelope
is stored in the database in 256 KiB rows and a small notification goes out). The accounts
exist before timing starts (one message each). The same smtplib client sends the same
messages to both in alternating rounds, so both see the same background load; printed are
messages per second of each, the ratio mailbox/attachment (goal >= 0.8) and what the
mailbox tables hold afterwards. Report the load average next to the figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (
    ADVISER,
    KB,
    filter_environ,
    free_port,
    load_average,
    message,
    serve_filter,
    serve_sink,
    wait_port,
)
from tests.support.threads import run_at_once

POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def serve(port: int, sink_port: int, data_dir: str, url: str, method: str) -> None:
    """The real filter on `url` with `method` as the default delivery method."""
    serve_filter(
        filter_environ(
            data_dir,
            port,
            sink_port,
            WEBCRYPT_KEYSTORE_URL=url,
            WEBCRYPT_MAILBOX_DEFAULT_METHOD=method,
        )
    )


def customers(accounts: int) -> list[str]:
    return [f"kunde{number:03d}@mail.example" for number in range(accounts)]


def send(port: int, data: bytes, recipients: list[str], sessions: int) -> float:
    """Send one message to each of `recipients` over `sessions` connections; return seconds."""
    import smtplib

    shares = [recipients[n::sessions] for n in range(sessions)]

    def session(share: list[str]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
            for rcpt in share:
                refused = client.sendmail(ADVISER, [rcpt], data)
                assert not refused, refused

    started = time.perf_counter()
    run_at_once(partial(session, share) for share in shares if share)
    return time.perf_counter() - started


def new_database(backend: str, data_dir: str, name: str) -> tuple[str, object]:
    """A fresh keystore URL on `backend` and what drops it afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{data_dir}/{name}.db", lambda: None
    from sqlalchemy import create_engine, text

    database = f"bench_{name}_{secrets.token_hex(3)}"
    admin = create_engine(POSTGRESQL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {database}"))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()

    return POSTGRESQL.rsplit("/", 1)[0] + f"/{database}", drop


def stored(url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        messages = connection.execute(text("SELECT COUNT(*) FROM mailbox_messages")).scalar()
        chunks = connection.execute(text("SELECT COUNT(*) FROM mailbox_chunks")).scalar()
    engine.dispose()
    return int(messages or 0), int(chunks or 0)


def run_backend(backend: str, args: argparse.Namespace) -> None:
    context = multiprocessing.get_context("spawn")
    data = message(args.size * KB)
    names = customers(args.accounts)
    with tempfile.TemporaryDirectory() as folder:
        sink_port = free_port()
        processes = [context.Process(target=serve_sink, args=(sink_port,), daemon=True)]
        ports, urls, drops = {}, {}, []
        for method in ("attachment", "mailbox"):
            data_dir = os.path.join(folder, method)
            os.makedirs(data_dir)
            urls[method], drop = new_database(backend, data_dir, method)
            drops.append(drop)
            ports[method] = free_port()
            processes.append(
                context.Process(
                    target=serve,
                    args=(ports[method], sink_port, data_dir, urls[method], method),
                    daemon=True,
                )
            )
        for process in processes:
            process.start()
        try:
            for port in [sink_port, *ports.values()]:
                wait_port(port, timeout=120)
            for method in ports:  # every account exists before timing starts
                send(ports[method], data, names, args.sessions)
            rates: dict[str, list[float]] = {"attachment": [], "mailbox": []}
            ratios = []
            per_round = max(len(names), args.count // args.rounds)
            for _ in range(args.rounds):
                batch = [names[n % len(names)] for n in range(per_round)]
                round_rates = {}
                for method in ("attachment", "mailbox"):
                    seconds = send(ports[method], data, batch, args.sessions)
                    round_rates[method] = len(batch) / seconds
                    rates[method].append(round_rates[method])
                ratios.append(round_rates["mailbox"] / round_rates["attachment"])
            messages, chunks = stored(urls["mailbox"])
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(10)
            for drop in drops:
                drop()  # type: ignore[operator]
    total = args.rounds * per_round
    print(
        f"{backend:10s} {total} messages of {args.size} KB to {len(names)} accounts, "
        f"{args.sessions} sessions: "
        f"attachment {max(rates['attachment']):6.1f} msg/s, "
        f"mailbox {max(rates['mailbox']):6.1f} msg/s (best round); "
        f"ratio mailbox/attachment {statistics.median(ratios):.2f} "
        f"(median of {len(ratios)} alternating rounds; goal >= 0.80); "
        f"stored {messages} messages in {chunks} chunk rows"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages per method")
    parser.add_argument("--size", type=int, default=100, help="message size in KB")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=4, help="parallel SMTP sessions")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    for backend in args.backend or ["sqlite", "postgresql"]:
        run_backend(backend, args)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
