"""The keystore: database engine, sessions, migrations and service shortcuts.

Database errors leave a session or transaction as the keystore's own: `KeystoreUnavailable`
when the database cannot be reached, `DuplicateRecord` for a unique key taken by another
writer, `DatabaseError` for anything else; the SQLAlchemy error is the cause.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session as Session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from keystore.admins import AdminService
from keystore.audit import AuditService
from keystore.clock import Clock, utcnow
from keystore.driver import (
    SQLITE_BEGIN,
    DriverTransaction,
    PreparedStatements,
    WriterQueue,
    driver_transaction,
)
from keystore.errors import DatabaseError, DuplicateRecord, KeystoreUnavailable
from keystore.leases import LeaseService
from keystore.ledger import LedgerService
from keystore.mailbox import MailboxService
from keystore.masterkey import MasterKey
from keystore.noticelog import NoticeService
from keystore.parked import ParkingService
from keystore.passwords import Hasher
from keystore.quota import CreationQuota
from keystore.recipients import RecipientService
from keystore.settings import SettingsService

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def _is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


@contextmanager
def _unavailable_on(errors: tuple[type[Exception], ...]) -> Iterator[None]:
    """Turn the given database errors into KeystoreUnavailable (logged, without parameters)."""
    try:
        yield
    except errors as exc:
        log.warning("keystore database unavailable: %s", exc)
        raise KeystoreUnavailable("the keystore database is unavailable; try again later") from exc


@contextmanager
def _keystore_errors() -> Iterator[None]:
    """Raise the keystore's own errors for SQLAlchemy's (see the module docstring)."""
    with _unavailable_on(_UNAVAILABLE):
        try:
            yield
        except IntegrityError as exc:
            raise DuplicateRecord("a record with the same key exists already") from exc
        except _UNAVAILABLE:
            raise  # KeystoreUnavailable, just outside
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the keystore database refused a statement: {exc}") from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Enable WAL, a busy timeout and foreign keys; let SQLAlchemy emit BEGIN itself."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Every transaction takes the write lock up front: a deferred transaction that read
    # first cannot wait for a concurrent writer and would fail instead of queueing.
    connection.exec_driver_sql(SQLITE_BEGIN)


def _create_private_file(path: Path) -> None:
    """Create a missing SQLite file readable by its owner only (0600), in a 0700 folder.

    SQLite gives its -wal and -shm files the mode of the database file, so they follow. An
    existing file keeps its mode: the operator may have chosen it (a backup group, say).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            log.warning("keystore file %s is readable by other users; run `chmod 600` on it", path)
        return
    os.close(fd)


def make_engine(url: str | URL, **options: object) -> Engine:
    """Create an engine with the settings the keystore needs on each backend."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # hide_parameters: error messages and logs must never carry hashes or wrapped keys.
    kwargs: dict[str, object] = {"hide_parameters": True, "pool_pre_ping": True}
    if backend == "sqlite":
        kwargs = {
            "hide_parameters": True,
            "connect_args": {"check_same_thread": False, "timeout": 30},
        }
        if _is_memory_sqlite(parsed):
            kwargs["poolclass"] = StaticPool
        elif parsed.database:
            _create_private_file(Path(parsed.database))
    elif backend in ("mysql", "mariadb"):
        # READ COMMITTED: a retry after a duplicate-key error must see the winner's row.
        kwargs.update(isolation_level="READ COMMITTED", pool_recycle=3600)
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    kwargs.update(options)
    engine = create_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


class Keystore:
    """Accounts, keys, settings, ledger and audit log in one database."""

    def __init__(
        self,
        url: str | URL,
        *,
        master_key: MasterKey,
        clock: Clock = utcnow,
        hasher: Hasher | None = None,
        engine_options: Mapping[str, object] | None = None,
    ) -> None:
        self.url = make_url(url)
        self.master_key = master_key
        self.clock = clock
        self.hasher = hasher or Hasher()
        self.engine = make_engine(self.url, **(engine_options or {}))
        self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._writers: WriterQueue | None = None
        if self.url.get_backend_name() == "sqlite":
            database = self.url.database
            shared = None if _is_memory_sqlite(self.url) else f"{database}-writer"
            self._writers = WriterQueue(shared)
        self._prepared = PreparedStatements(self.engine.dialect)

    def __repr__(self) -> str:
        return f"Keystore({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success and rolls back on error.

        Database errors surface as the keystore's own (see the module docstring).
        """
        with _keystore_errors(), self._sessionmaker() as session:  # closes it
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def driver_transaction(
        self, *, read_only: bool = False, urgent: bool = False
    ) -> Iterator[DriverTransaction]:
        """Open a transaction on the DBAPI connection: for the filter's per-message statements.

        `read_only` for statements that only read: they take no write lock. `urgent` for a
        write that must commit as soon as it can: it goes before the other writers of this
        process that wait. See `keystore.driver`; errors surface as the keystore's own.
        """
        with (
            _keystore_errors(),
            driver_transaction(
                self.engine, self._writers, self._prepared, read_only=read_only, urgent=urgent
            ) as transaction,
        ):
            yield transaction

    def ping(self) -> None:
        """Check that the database answers; raise KeystoreUnavailable otherwise."""
        with _unavailable_on((DBAPIError, *_UNAVAILABLE)), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def _alembic_config(self, connection: Connection) -> Any:
        # alembic only to migrate (init, upgrade, checks): the filter and portal never load it.
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        # Migrations that wrap stored secrets (0007: security phrases) need the key.
        config.attributes["master_key"] = self.master_key
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the database schema up to date (alembic upgrade head)."""
        from alembic import command  # alembic only to migrate

        with self.engine.begin() as connection:
            command.upgrade(self._alembic_config(connection), revision)

    def current_revision(self) -> str | None:
        """Return the schema revision stored in the database (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext  # alembic only to migrate

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def is_current(self) -> bool:
        """Tell whether the schema is at the newest migration."""
        from alembic.script import ScriptDirectory  # alembic only to migrate

        with self.engine.connect() as connection:
            script = ScriptDirectory.from_config(self._alembic_config(connection))
            heads = set(script.get_heads())
        return self.current_revision() in heads

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def recipients(self, session: Session) -> RecipientService:
        """Return the recipient service bound to `session`."""
        return RecipientService(
            session, clock=self.clock, master_key=self.master_key, hasher=self.hasher
        )

    def quota(self, session: Session) -> CreationQuota:
        """Return the counter of new recipient accounts per sender."""
        return CreationQuota(session, clock=self.clock)

    def settings(self, session: Session) -> SettingsService:
        """Return the settings service bound to `session`."""
        return SettingsService(session, clock=self.clock)

    def parked(self, session: Session) -> ParkingService:
        """Return the service of parked envelopes bound to `session`."""
        return ParkingService(session, clock=self.clock)

    def ledger(self, session: Session) -> LedgerService:
        """Return the message ledger service bound to `session`."""
        return LedgerService(session, clock=self.clock)

    def mailbox(self, session: Session) -> MailboxService:
        """Return the secure mailbox service bound to `session`."""
        return MailboxService(session, clock=self.clock)

    def audit(self, session: Session) -> AuditService:
        """Return the audit log service bound to `session`."""
        return AuditService(session, clock=self.clock)

    def admins(self, session: Session) -> AdminService:
        """Return the admin account service bound to `session`."""
        return AdminService(
            session, clock=self.clock, hasher=self.hasher, master_key=self.master_key
        )

    def notices(self, session: Session) -> NoticeService:
        """Return the sent-notices service bound to `session`."""
        return NoticeService(session, clock=self.clock)

    def leases(self, session: Session) -> LeaseService:
        """Return the job lease service bound to `session`."""
        return LeaseService(session, clock=self.clock)
