"""Benchmark the admin's recipient search on one million accounts (SQLite and PostgreSQL).

    python bench/search.py                         1,000,000 accounts on SQLite and PostgreSQL
    python bench/search.py --count 100000          fewer accounts
    python bench/search.py --backend sqlite        one backend only

Accounts are bulk-inserted (executemany on SQLite, COPY on PostgreSQL) into a fresh
keystore made by the real migrations, then `RecipientService.search()` is timed for a few
prefixes, first page and a later page. The query plan printed for each backend shows that
the search is a range scan on the address index, not a scan of the table.

PostgreSQL: a throwaway database is created on the server given by --postgresql-url
(default: WEBCRYPT_TEST_POSTGRESQL_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test)
and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text

from bench.support import add_backend_options, fresh_database
from keystore.db import Keystore
from keystore.masterkey import MasterKey
from keystore.models import Recipient

FIRST = (
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hans", "ida", "jonas",
    "karl", "lena", "max", "nina", "otto", "paula", "quirin", "rosa", "sven", "tina",
    "ulf", "vera", "willi", "xaver", "yvonne", "zoe", "jürgen", "sören", "émile", "åsa",
)  # fmt: skip
LAST = (
    "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
    "schulz", "hoffmann", "koch", "richter", "klein", "wolf", "neumann", "schwarz",
    "zimmermann", "braun", "krueger", "hartmann", "lange", "werner", "krause", "lehmann",
)  # fmt: skip
DOMAINS = (
    "example.com", "example.org", "mail.example", "web.example", "t-online.example",
    "gmx.example", "posteo.example", "firma.example", "kanzlei.example", "praxis.example",
)  # fmt: skip
PREFIXES = ("a", "anna", "anna.mueller", "zoe.zimmermann1", "jürgen.", "nobody-here")
BATCH = 20_000


def addresses(count: int, seed: int = 1) -> Iterator[str]:
    """Yield `count` distinct, realistic-looking addresses (deterministic for a seed)."""
    rng = random.Random(seed)
    for n in range(count):
        first = rng.choice(FIRST)
        last = rng.choice(LAST)
        yield f"{first}.{last}{n}@{rng.choice(DOMAINS)}"


def rows(count: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Yield recipient rows with every column the table requires."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    for address in addresses(count, seed):
        yield {
            "address": address,
            "key_id": secrets.token_hex(8),
            "status": "active",
            "created_at": created,
            "created_by": "berater@bank.example",
            "failed_logins": 0,
            "read_receipts": False,
        }


def _batches(source: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in source:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(keystore: Keystore, count: int, seed: int = 1) -> None:
    """Insert `count` accounts: COPY on PostgreSQL, executemany elsewhere; then ANALYZE."""
    table = Recipient.__table__
    backend = keystore.engine.dialect.name
    if backend == "postgresql":
        columns = list(next(rows(1)))
        raw = keystore.engine.raw_connection()
        try:
            cursor = raw.cursor()
            statement = f"COPY recipients ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for row in rows(count, seed):
                    copy.write_row([row[name] for name in columns])
            cursor.execute("ANALYZE recipients")
            raw.commit()
        finally:
            raw.close()
        return
    with keystore.engine.begin() as connection:
        for batch in _batches(rows(count, seed), BATCH):
            connection.execute(table.insert(), batch)
    with keystore.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def search_statement(keystore: Keystore, prefix: str) -> tuple[str, Any]:
    """Run the service's search once and return the SQL statement and parameters it sent."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM recipients" in statement:
            seen.append((statement, parameters))

    event.listen(keystore.engine, "before_cursor_execute", capture)
    try:
        with keystore.session() as session:
            keystore.recipients(session).search(prefix)
    finally:
        event.remove(keystore.engine, "before_cursor_execute", capture)
    return seen[-1]


def explain(keystore: Keystore, prefix: str) -> str:
    """Return the database's query plan for the search of `prefix`."""
    statement, parameters = search_statement(keystore, prefix)
    raw = keystore.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if keystore.engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + statement, parameters)
        return "\n".join(str(row[0]) for row in cursor.fetchall())
    finally:
        raw.close()


def uses_index(plan: str) -> bool:
    """Tell whether a plan reads recipients through the address index (no table scan)."""
    scans = ("SCAN recipients", "Seq Scan on recipients")
    return "ix_recipients_address" in plan and not any(scan in plan for scan in scans)


def time_search(keystore: Keystore, prefix: str, *, page: int, repeat: int) -> tuple[float, int]:
    """Return (median milliseconds, rows found) for one page of the search of `prefix`."""
    timings = []
    found = 0
    for _ in range(repeat):
        with keystore.session() as session:
            service = keystore.recipients(session)
            started = time.perf_counter()
            found = len(service.search(prefix, limit=50, offset=(page - 1) * 50))
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), found


def run(backend: str, count: int, repeat: int, postgresql_url: str) -> None:
    """Fill one backend and print the figures and the plan."""
    with fresh_database(backend, postgresql_url) as (url, _):
        keystore = Keystore(url, master_key=MasterKey.generate())
        try:
            keystore.upgrade()
            started = time.perf_counter()
            bulk_insert(keystore, count)
            seconds = time.perf_counter() - started
            print(f"\n== {backend}: {count:,} accounts inserted in {seconds:.1f} s")
            print(f"{'prefix':<18} {'page':>4} {'rows':>5} {'median ms':>10}")
            for prefix in PREFIXES:
                for page in (1, 20):
                    millis, found = time_search(keystore, prefix, page=page, repeat=repeat)
                    print(f"{prefix:<18} {page:>4} {found:>5} {millis:>10.2f}")
            plan = explain(keystore, "anna")
            print("plan of search('anna'):\n  " + plan.replace("\n", "\n  "))
            print(f"address index used, no table scan: {'yes' if uses_index(plan) else 'NO'}")
        finally:
            keystore.dispose()


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    add_backend_options(parser)
    options = parser.parse_args()
    for backend in options.backends or ["sqlite", "postgresql"]:
        run(backend, options.count, options.repeat, options.postgresql_url)


if __name__ == "__main__":
    main()
