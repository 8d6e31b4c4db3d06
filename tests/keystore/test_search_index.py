"""A prefix search uses the address index instead of scanning the table."""

from typing import Any

from sqlalchemy import event, text

from keystore.db import Keystore


def captured_search(keystore: Keystore, prefix: str) -> tuple[str, Any]:
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM recipients" in statement:
            statements.append((statement, parameters))

    event.listen(keystore.engine, "before_cursor_execute", capture)
    try:
        with keystore.session() as session:
            assert [r.address for r in keystore.recipients(session).search(prefix)]
    finally:
        event.remove(keystore.engine, "before_cursor_execute", capture)
    return statements[-1]


def test_prefix_search_uses_the_index(keystore: Keystore, backend: str) -> None:
    with keystore.session() as session:
        service = keystore.recipients(session)
        for n in range(200):
            service.get_or_create(f"user{n:03d}@example.com", created_by="a@bank")
    statement, parameters = captured_search(keystore, "user01")
    with keystore.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if backend == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX ix_recipients_address (address>? AND address<?)" in plan, plan
        elif backend == "postgresql":
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = " ".join(str(row[0]) for row in cursor.fetchall())
            assert "ix_recipients_address" in plan and "Seq Scan" not in plan, plan
        else:
            cursor.execute("ANALYZE TABLE recipients")
            cursor.fetchall()
            cursor.execute("EXPLAIN " + statement, parameters)
            columns = [d[0] for d in cursor.description]
            row = dict(zip(columns, cursor.fetchone(), strict=True))
            assert "ix_recipients_address" in str(row["possible_keys"]), row
            assert row["type"] == "range", row
        cursor.close()
        connection.execute(text("SELECT 1"))
