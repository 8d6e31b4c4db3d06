"""Another writer on the keystore's SQLite file, to see whether a request holds the write lock.

Every keystore transaction on SQLite starts with BEGIN IMMEDIATE, so a request that keeps
a session open during slow work makes every other portal thread and filter instance on the
same file wait. The other writer here gives up after a short busy timeout instead of the
keystore's usual 30 seconds, so a test learns at once whether the lock was free.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from keystore.db import Keystore
from keystore.errors import KeystoreUnavailable
from webcrypt.runtime import Runtime

# Long enough for any short transaction of the request to finish, far shorter than the
# time the request would hold a session open around slow work.
BUSY_TIMEOUT_MS = 500


def shorten_busy_timeout(keystore: Keystore, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Make `keystore` give up on a held write lock after `busy_timeout_ms`.

    The hook runs after the keystore's own connect hook (which sets the usual timeout);
    pooled connections are closed so every later one gets it.
    """

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        finally:
            cursor.close()

    event.listen(keystore.engine, "connect", on_connect)
    keystore.dispose()


class OtherWriter:
    """A second keystore on the same SQLite file, as another process would open it."""

    def __init__(self, runtime: Runtime) -> None:
        self.keystore = Keystore(
            runtime.keystore.url, master_key=runtime.master_key, clock=runtime.clock
        )
        shorten_busy_timeout(self.keystore)

    def write(self) -> str | None:
        """Record an audit event in a short transaction; return None, or why it failed."""
        try:
            with self.keystore.session() as session:
                self.keystore.audit(session).record("test.other_writer", actor="test")
        except KeystoreUnavailable as exc:
            return f"the other writer found the keystore locked: {exc.__cause__}"
        return None

    def close(self) -> None:
        """Close the second keystore's connections."""
        self.keystore.dispose()
