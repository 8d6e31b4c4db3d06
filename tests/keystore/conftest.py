"""Fixtures of the keystore tests: a migrated keystore per backend, a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from keystore.models import Base
from keystore.passwords import Hasher, make_context

_migrated: set[str] = set()


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fast_hasher() -> Hasher:
    """Argon2id with minimal cost, so tests stay quick."""
    return Hasher(make_context(memory_kib=1024, time_cost=1, parallelism=1))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def backend(keystore_url: str) -> str:
    """The name of the database backend under test."""
    return keystore_url.split(":", 1)[0].split("+", 1)[0]


@pytest.fixture
def keystore(keystore_url: str, clock: FakeClock, master_key: MasterKey) -> Iterator[Keystore]:
    """A migrated keystore on each backend; every table is emptied after the test."""
    ks = Keystore(keystore_url, master_key=master_key, clock=clock, hasher=fast_hasher())
    if keystore_url not in _migrated:
        ks.upgrade()
        _migrated.add(keystore_url)
    try:
        yield ks
    finally:
        with ks.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
        ks.dispose()
