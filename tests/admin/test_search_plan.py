"""The recipient search stays an index range scan (the 1-million-account run is bench/search.py)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from bench.support import DEFAULT_PG
from keystore.db import Keystore
from keystore.masterkey import MasterKey
from tests.conftest import SKIPPED_DATABASE, database_servers_wanted
from tests.support.components import need, port_open

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_search", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.databases)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        if not database_servers_wanted("postgresql"):
            pytest.skip(f"postgresql: {SKIPPED_DATABASE} on 127.0.0.1:5432")
        need(port_open("127.0.0.1", 5432), "postgresql server is not reachable")
    return str(request.param)


def test_search_plan_uses_the_address_index(bench: ModuleType, backend: str) -> None:
    url = os.environ.get("WEBCRYPT_TEST_POSTGRESQL_URL", DEFAULT_PG)
    with bench.fresh_database(backend, url) as (database, _):
        keystore = Keystore(database, master_key=MasterKey.generate())
        try:
            keystore.upgrade()
            bench.bulk_insert(keystore, 20_000)
            with keystore.session() as session:
                found = keystore.recipients(session).search("anna.mueller", limit=50)
                assert found and all(r.address.startswith("anna.mueller") for r in found)
                assert [r.address for r in found] == sorted(r.address for r in found)
            plan = bench.explain(keystore, "anna")
            assert bench.uses_index(plan), plan
        finally:
            keystore.dispose()


def test_uses_index_recognises_a_table_scan(bench: ModuleType) -> None:
    assert not bench.uses_index("SCAN recipients")
    assert not bench.uses_index("Seq Scan on recipients  (cost=0.00..1.00)")
    assert bench.uses_index("SEARCH recipients USING INDEX ix_recipients_address (address>?)")
