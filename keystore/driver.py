"""Hot statements on the DBAPI connection itself, with SQLAlchemy's compiler and errors.

For a one-row insert, SQLAlchemy's work around each execution (cache key, parameter
processing, result and event machinery, the BEGIN it emits) costs about twice what the
database needs. The filter records one ledger entry per sealed message, so that statement
is compiled once per dialect (`Prepared`) and run in `driver_transaction`, which keeps
the semantics of an engine transaction: the same pooled connections, BEGIN IMMEDIATE on
SQLite, commit on success, rollback on error, and SQLAlchemy's exception classes (so the
Keystore turns an unreachable database into `KeystoreUnavailable` and a duplicate row into
`DuplicateRecord` as it does for a session).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement

log = logging.getLogger(__name__)

SQLITE_BEGIN = "BEGIN IMMEDIATE"
"""How every SQLite transaction begins: with the write lock, so that it queues for it."""


class WriterQueue:
    """One writer at a time; an urgent writer goes before those of its process that wait.

    SQLite has one writer at a time, and a writer that finds the database locked sleeps in
    its busy handler (1, 2, 5, ... up to 100 ms) before trying again, however soon the lock
    was free. So the short transactions of one process queue here, and with a `lock_file`
    the processes sharing the database (the filter's workers) queue on it too (`flock`),
    each following the one before at once. An urgent transaction (the record of a mail the
    relay just took: until it commits, a crash sends the mail twice) waits only for the
    writer that holds the lock, not for the others of its process.
    """

    def __init__(self, lock_file: str | os.PathLike[str] | None = None) -> None:
        self.lock_file = lock_file
        self._condition = threading.Condition()
        self._busy = False
        self._urgent = 0
        self._fd = -1
        self._pid = 0

    @contextmanager
    def hold(self, *, urgent: bool = False) -> Iterator[None]:
        """Hold the lock for a transaction; `urgent` overtakes the writers waiting."""
        with self._condition:
            self._urgent += urgent
            try:
                self._condition.wait_for(lambda: not self._busy and (urgent or not self._urgent))
            finally:
                self._urgent -= urgent
            self._busy = True
        try:
            fd = self._shared_lock()
            if fd < 0:
                yield
            else:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            with self._condition:
                self._busy = False
                self._condition.notify_all()

    def _shared_lock(self) -> int:
        """The lock file of this process (-1: none); a forked worker opens its own."""
        if self.lock_file is None:
            return -1
        if self._pid != os.getpid():
            # An inherited descriptor would share its lock with the parent: open anew.
            try:
                self._fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                log.warning("cannot open %s (%s): writers queue in SQLite", self.lock_file, exc)
                self.lock_file = None
                return -1
            self._pid = os.getpid()
        return self._fd


class Prepared:
    """A Core statement compiled for one dialect, with its parameters put in driver form."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self._order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if dialect.positional else None
        )
        self._fixed: dict[str, Any] = {}
        self._processors: dict[str, Callable[[Any], Any]] = {}
        for bind, name in compiled.bind_names.items():
            if bind.value is not None:  # a literal of the statement, such as 'active'
                self._fixed[name] = bind.value
            # The dialect's own type (a TypeDecorator on SQLite: its DateTime format), as
            # a Core execution uses it.
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor

    def parameters(self, values: Mapping[str, object]) -> tuple[object, ...] | dict[str, object]:
        """The statement's parameters as the driver takes them: processed, in order."""
        merged = {**self._fixed, **values}
        for name, processor in self._processors.items():
            merged[name] = processor(merged[name])
        if self._order is None:
            return merged
        return tuple(merged[name] for name in self._order)


class DriverTransaction:
    """A DBAPI cursor in a transaction, running statements prepared once per engine."""

    def __init__(self, cursor: DBAPICursor, prepare: Callable[[ClauseElement], Prepared]) -> None:
        self.cursor = cursor
        self._prepare = prepare

    def execute(self, statement: ClauseElement, values: Mapping[str, object]) -> DBAPICursor:
        """Run `statement` with `values`; return the cursor (its `rowcount`, as a result's)."""
        prepared = self._prepare(statement)
        self.cursor.execute(prepared.sql, prepared.parameters(values))
        return self.cursor


class PreparedStatements:
    """The statements an engine has prepared, each compiled the first time it runs."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared: dict[ClauseElement, Prepared] = {}

    def __call__(self, statement: ClauseElement) -> Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared(statement, self.dialect)
        return prepared


@contextmanager
def driver_transaction(
    engine: Engine,
    writers: WriterQueue | None,
    prepared: PreparedStatements,
    *,
    read_only: bool = False,
    urgent: bool = False,
) -> Iterator[DriverTransaction]:
    """Yield a `DriverTransaction` that commits on success and rolls back on error.

    Driver errors are raised as SQLAlchemy's (`OperationalError`, `IntegrityError`, ...);
    a connection the error shows to be broken is dropped from the pool. A writing
    transaction queues in `writers` (None: the database queues them itself), an `urgent`
    one first. `read_only` runs the statements without the write lock (on SQLite each reads
    a consistent snapshot of its own, and waits for no writer).
    """
    dialect = engine.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    writer: AbstractContextManager[object] = (
        nullcontext() if read_only or writers is None else writers.hold(urgent=urgent)
    )
    with writer, _checked_out(engine) as connection:
        cursor = None
        try:
            cursor = connection.cursor()
            if dialect.name == "sqlite" and not read_only:
                cursor.execute(SQLITE_BEGIN)
            yield DriverTransaction(cursor, prepared)
            connection.commit()
        except dbapi_error as exc:
            broken = dialect.is_disconnect(exc, connection.dbapi_connection, cursor)
            _rollback(connection)
            if broken:
                connection.invalidate(exc)
            raise _wrapped(exc, dialect, invalidated=broken) from exc
        except BaseException:
            _rollback(connection)
            raise
        finally:
            if cursor is not None:
                with contextlib.suppress(dbapi_error):
                    cursor.close()


@contextmanager
def _checked_out(engine: Engine) -> Iterator[Any]:
    """A pooled DBAPI connection, returned to the pool afterwards."""
    try:
        connection = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as exc:  # the pool hands on the driver's error
        raise _wrapped(exc, engine.dialect) from exc
    try:
        yield connection
    finally:
        connection.close()


def _wrapped(exc: Exception, dialect: Dialect, *, invalidated: bool = False) -> StatementError:
    """SQLAlchemy's exception for a driver's, as a Core execution would raise it."""
    return DBAPIError.instance(
        None,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=dialect,
    )


def _rollback(connection: Any) -> None:
    with contextlib.suppress(Exception):
        connection.rollback()
