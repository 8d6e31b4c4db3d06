"""Fixtures shared by the whole suite: keystore databases on SQLite, PostgreSQL and MariaDB.

Also compiles each Flask template once per test process (`SharedTemplateCode`), and starts
the slow tests first (`pytest_collection_modifyitems`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tests.support.components import need, port_open, under_ci


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for every Flask app of this test process.

    Each test builds an app of its own, which would compile every template it renders again:
    about a tenth of a portal test's time. The key is the template's name and file, and a
    template whose source changed is compiled afresh (Jinja compares a checksum).
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()}

# Server URLs to try, in order; WEBCRYPT_TEST_POSTGRESQL_URL / _MARIADB_URL override them.
SERVER_URLS = {
    "postgresql": [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://root@127.0.0.1:5432/test",
    ],
    "mariadb": ["mysql+pymysql://root@127.0.0.1:3306/test"],
}


DEFAULT_PORTS = {"postgresql": 5432, "mariadb": 3306}
"""Where the database servers answer on a developer's machine (and in CI)."""

ENABLE_DATABASES = (
    "start PostgreSQL on 127.0.0.1:5432 and MariaDB on 127.0.0.1:3306 (database test), "
    "or set WEBCRYPT_TEST_DATABASES=1 with WEBCRYPT_TEST_POSTGRESQL_URL / _MARIADB_URL"
)


SKIPPED_DATABASE = "no database server answers"
"""What the skip reason of a test that needs a database server says."""


def database_servers_wanted(backend: str = "postgresql") -> bool:
    """Tell whether tests should use `backend`'s server.

    Yes under CI or with WEBCRYPT_TEST_DATABASES=1 (an unreachable server is then a failure),
    no with WEBCRYPT_TEST_DATABASES=0, else when something answers on its default port.
    """
    setting = os.environ.get("WEBCRYPT_TEST_DATABASES", "").lower()
    if setting in {"1", "true", "yes"} or under_ci():
        return True
    if setting in {"0", "false", "no"}:
        return False
    return port_open("127.0.0.1", DEFAULT_PORTS[backend])


def _server_url(backend: str) -> str | None:
    """Return the first server URL of `backend` that accepts a connection."""
    override = os.environ.get(f"WEBCRYPT_TEST_{backend.upper()}_URL")
    for url in [override] if override else SERVER_URLS[backend]:
        engine = create_engine(url)
        try:
            with engine.connect():
                return url
        except SQLAlchemyError:
            continue
        finally:
            engine.dispose()
    return None


def _create_database(server_url: str, backend: str) -> tuple[str, str]:
    """Create a uniquely named empty database; returns (its URL, its name)."""
    name = f"wc_test_{secrets.token_hex(4)}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        options = " CHARACTER SET utf8mb4" if backend == "mariadb" else ""
        connection.execute(text(f"CREATE DATABASE {name}{options}"))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def _drop_database(server_url: str, backend: str, name: str) -> None:
    """Drop a test database, ending whatever still holds it open, and never wait for long.

    A connection a test left open (with a transaction and its metadata locks) would make
    MariaDB's DROP wait for a day (`lock_wait_timeout`); PostgreSQL's FORCE ends such
    connections, and on MariaDB they are killed first.
    """
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if backend == "postgresql":
            connection.execute(text("SET lock_timeout = '60s'"))
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        else:
            connection.execute(text("SET SESSION lock_wait_timeout = 60"))
            holders = connection.execute(
                text(
                    "SELECT id FROM information_schema.processlist"
                    " WHERE db = :name AND id <> CONNECTION_ID()"
                ),
                {"name": name},
            ).scalars()
            for holder in holders.all():
                connection.execute(text(f"KILL {int(holder)}"))
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    engine.dispose()


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.databases),
        pytest.param("mariadb", marks=pytest.mark.databases),
    ],
)
def keystore_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty keystore database for this test session, on each backend in turn.

    PostgreSQL and MariaDB run when their servers answer on the default ports, or with
    WEBCRYPT_TEST_DATABASES=1 or under CI (where an unreachable server is a failure); each
    gets a fresh database that is dropped at the end.
    """
    backend: str = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('keystore') / 'keystore.db'}"
        return
    if not database_servers_wanted(backend):
        pytest.skip(f"{backend}: {SKIPPED_DATABASE} on 127.0.0.1:{DEFAULT_PORTS[backend]}")
    server_url = _server_url(backend)
    need(server_url is not None, f"{backend} server is not reachable")
    assert server_url is not None
    url, name = _create_database(server_url, backend)
    try:
        yield url
    finally:
        _drop_database(server_url, backend, name)


@pytest.fixture
def sqlite_keystore_url(tmp_path: Path) -> str:
    """A keystore database URL on a fresh SQLite file (for tests that need only one backend)."""
    return f"sqlite:///{tmp_path / 'keystore.db'}"


LONG_RUNNING_MARKS = ("browser", "postfix", "databases")
"""Marks of tests that take seconds each, though fewer than those marked `slow`."""


def _start_rank(item: pytest.Item) -> int:
    """0 for a test marked slow, 1 for one that drives a browser, Postfix or a database
    server, 2 for the rest."""
    if item.get_closest_marker("slow"):
        return 0
    if any(item.get_closest_marker(name) for name in LONG_RUNNING_MARKS):
        return 1
    return 2


def _worker_shares(total: int, workers: int) -> list[int]:
    """How many tests pytest-xdist's `worksteal` hands each worker at the start: contiguous
    ranges of the collection, `pending // workers_left` each."""
    shares = []
    for left in range(workers, 0, -1):
        shares.append((total - sum(shares)) // left)
    return shares


def _spread(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """Order the tests so that each worker's starting range begins with its share of the
    long ones (slow first, then browser, Postfix and database tests), whole modules together
    so module fixtures are set up once, and is filled up with the quick ones.

    `worksteal` gives each worker a contiguous range of the collection and lets idle workers
    steal from the end of the others' ranges, so the long tests must not all stand at the
    front of the first range: one worker then ran them all one after the other.
    """
    chunks: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for rank in (0, 1):
        modules: dict[str, list[pytest.Item]] = {}
        for item in items:
            if _start_rank(item) == rank:
                modules.setdefault(item.nodeid.split("::")[0], []).append(item)
        for tests in modules.values():
            min(chunks, key=len).extend(tests)
    quick = [item for item in items if _start_rank(item) == 2]
    for chunk, share in zip(chunks, _worker_shares(len(items), workers), strict=True):
        room = max(0, share - len(chunk))
        chunk.extend(quick[:room])
        del quick[:room]
    chunks[-1].extend(quick)
    return [item for chunk in chunks for item in chunk]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the long tests first, on every worker, so that no worker is left running long
    ones on its own while the others have finished (`worksteal` then evens out the rest).

    The order within each rank stays the one pytest chose to share fixtures. Every worker
    computes the same order from the same collection, as pytest-xdist requires.
    """
    items.sort(key=_start_rank)
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    if workers > 1:
        items[:] = _spread(items, workers)


def pytest_unconfigure(config: pytest.Config) -> None:
    """End with one line: how many tests were skipped, and how to run the database ones."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not hasattr(reporter, "stats"):
        return
    skipped = reporter.stats.get("skipped", [])
    if not skipped:
        return
    databases = sum(1 for report in skipped if SKIPPED_DATABASE in str(report.longrepr))
    line = f"{len(skipped)} tests skipped (the list above says why)"
    if databases:
        line += f"; {databases} of them need the database servers: {ENABLE_DATABASES}"
    reporter.write_line(line, yellow=True)
