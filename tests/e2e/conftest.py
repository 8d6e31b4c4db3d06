"""Fixtures of the end-to-end suites: the final sink, a private Postfix, the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import Gateway
from tests.support.postfix import PostfixInstance
from tests.support.smtp import RecordingSink


@pytest.fixture
def sink() -> Iterator[RecordingSink]:
    """The final destination of every mail that leaves the gateway."""
    with RecordingSink() as recording:
        yield recording


@pytest.fixture
def mta(sink: RecordingSink) -> Iterator[PostfixInstance]:
    """A private Postfix configured with the guide's blocks, relaying to the sink."""
    with PostfixInstance(relay_port=sink.port) as instance:
        yield instance


@pytest.fixture
def gateway(tmp_path: Path, mta: PostfixInstance) -> Iterator[Gateway]:
    """WebCrypt configured by the guide's webcrypt.toml for `mta`, keystore initialized."""
    installation = Gateway(tmp_path, config_toml=mta.webcrypt_toml())
    installation.init()
    try:
        yield installation
    finally:
        installation.stop()
