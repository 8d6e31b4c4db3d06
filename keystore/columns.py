"""Column types that behave the same on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from keystore.clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored as naive UTC with microseconds on every backend."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use DATETIME(6) on MariaDB/MySQL so microseconds survive."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC for storage."""
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to the stored naive value."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def address_type() -> TypeEngine[str]:
    """A column type for normalized addresses whose order is by code point on every backend.

    Code point order lets a prefix search use a plain range query on the btree index.
    """
    return (
        String(320)
        .with_variant(postgresql.VARCHAR(320, collation="C"), "postgresql")
        .with_variant(mysql.VARCHAR(320, collation="utf8mb4_bin"), "mysql", "mariadb")
    )


def long_text_type() -> TypeEngine[str]:
    """Text large enough for an inline logo (MEDIUMTEXT on MariaDB/MySQL)."""
    return Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def blob_type() -> TypeEngine[bytes]:
    """Binary data up to a few MiB a row (MEDIUMBLOB on MariaDB/MySQL, whose BLOB holds 64 KiB)."""
    return LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
