"""Fixtures of the corpus tests: one gateway (filter, sink, portal) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.corpus.oracle import Gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A running gateway with the corpus recipient logged in to the portal."""
    built = Gateway.create(tmp_path_factory.mktemp("corpus"))
    yield built
    built.close()
