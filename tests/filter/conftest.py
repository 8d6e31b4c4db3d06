"""Fixtures of the filter tests: a keystore, a runtime, a recording sink and the filter."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from tests.keystore.conftest import FakeClock, fast_hasher
from tests.support.components import free_port
from tests.support.keystores import migrated_sqlite
from tests.support.smtp import RecordingSink
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime
from webcrypt.smtp.handler import FilterServer

BANK = "bank.example"
ADVISER = f"adviser@{BANK}"
PORTAL = "https://portal.bank.example"


class Harness:
    """A runtime, its filter server and the sink behind it, for one test."""

    def __init__(
        self, runtime: Runtime, server: FilterServer, sink: RecordingSink, clock: FakeClock
    ):
        self.runtime = runtime
        self.server = server
        self.sink = sink
        self.clock = clock

    def client(self, timeout: float = 30, **kwargs: Any) -> smtplib.SMTP:
        """An SMTP (or LMTP) client connected to the filter, waiting `timeout` s per reply."""
        if self.server.protocol == "lmtp":
            client: smtplib.SMTP = smtplib.LMTP("127.0.0.1", self.server.port, **kwargs)
        else:
            client = smtplib.SMTP("127.0.0.1", self.server.port, timeout=timeout, **kwargs)
        return client

    def send(
        self, data: bytes | str, *, mail_from: str = ADVISER, to: list[str], timeout: float = 30
    ) -> dict:
        """Send one message through the filter; return smtplib's refused-recipients dict."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self.client(timeout) as client:
            options = ["SMTPUTF8"] if not all(a.isascii() for a in [mail_from, *to]) else []
            return client.sendmail(mail_from, to, data, mail_options=options)

    def settings(self, **changes: Any) -> None:
        """Change admin settings and make the runtime see them now."""
        with self.runtime.keystore.session() as session:
            self.runtime.keystore.settings(session).update(changes, actor="test")
        self.runtime.refresh_settings()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_harness(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Harness]]:
    started: list[Harness] = []
    sinks: list[RecordingSink] = []

    def make(*, protocol: str = "smtp", relay_timeout: float = 5, **environ: str) -> Harness:
        sink = RecordingSink().start()
        sinks.append(sink)
        env = {
            "WEBCRYPT_GENERAL_DATA_DIR": str(tmp_path),
            "WEBCRYPT_KEYSTORE_URL": migrated_sqlite(tmp_path / f"keystore{len(started)}.db"),
            "WEBCRYPT_FILTER_RELAY": sink.url,
            "WEBCRYPT_FILTER_LISTEN": f"127.0.0.1:{free_port()}",
            "WEBCRYPT_FILTER_PROTOCOL": protocol,
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": BANK,
            "WEBCRYPT_FILTER_RELAY_TIMEOUT": str(relay_timeout),
            "WEBCRYPT_PORTAL_PUBLIC_URL": PORTAL,
            **environ,
        }
        config = load_config(None, environ=env)
        master_key = MasterKey.generate()
        runtime = Runtime(config, clock=clock, master_key=master_key)
        runtime.keystore.engine.dispose()
        runtime.keystore = Keystore(
            config.keystore.url, master_key=master_key, clock=clock, hasher=fast_hasher()
        )
        server = FilterServer(runtime, listen="127.0.0.1:0", settings_interval=0.05)
        server.start()
        harness = Harness(runtime, server, sink, clock)
        started.append(harness)
        return harness

    yield make
    for harness in started:
        harness.server.stop(drain_timeout=5)
        harness.runtime.close()
    for sink in sinks:
        sink.stop()


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
