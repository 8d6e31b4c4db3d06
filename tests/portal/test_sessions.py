"""One keystore session at a time per thread: nothing waits behind its own request's lock.

Every portal and admin test runs under `SessionGuard` (see the conftest), which raises when
a session opens inside another one or a page renders inside one. The tests here check that
the guard works, and walk the recipient pages on a real SQLite keystore whose busy timeout
is short and whose settings are never cached across requests: a nested session there would
fail at once and be logged as an unavailable keystore.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import render_template
from flask.testing import FlaskClient
from sqlalchemy import event

from portal import create_app
from tests.portal.conftest import TEST_CONFIG, first_login, login, make_runtime
from tests.portal.helpers import FakeClock, build_mail, csrf_token, seal
from tests.portal.sessionguard import NestedSession
from tests.portal.test_reader import read
from webcrypt.runtime import Runtime


def test_the_guard_refuses_a_nested_session(runtime: Runtime) -> None:
    with runtime.keystore.session(), pytest.raises(NestedSession):
        runtime.settings()  # settings_ttl=0: this reads them in a session of its own


def test_the_guard_refuses_rendering_inside_a_session(runtime: Runtime) -> None:
    app = create_app(runtime, dict(TEST_CONFIG))
    with (
        app.test_request_context("/"),
        runtime.keystore.session(),
        pytest.raises(NestedSession),
    ):
        render_template("errors/page.html", status=500, title="t", message="m")


@pytest.fixture
def impatient(tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    """A runtime without the guard whose SQLite connections wait 50 ms for a lock at most."""
    built = make_runtime(tmp_path, clock)

    def short_timeout(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA busy_timeout = 50")

    event.listen(built.keystore.engine, "connect", short_timeout)
    built.keystore.engine.dispose()  # new connections get the short timeout
    yield built
    built.close()


def test_recipient_pages_never_nest_sessions(
    impatient: Runtime, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    client: FlaskClient = create_app(impatient, dict(TEST_CONFIG)).test_client()
    sealed = seal(impatient, build_mail())
    assert sealed.pin
    caplog.set_level(logging.WARNING)
    statuses = [client.post("/open", data={"envelope": sealed.armored}).status_code]
    statuses.append(first_login(client, sealed.pin, envelope=sealed.armored).status_code)
    statuses.append(read(client, "not an envelope").status_code)
    statuses.append(
        read(client, seal(impatient, build_mail(), to="b@example.com").armored).status_code
    )
    page = client.get("/profile")
    statuses.append(page.status_code)
    token = csrf_token(page.data)
    statuses.append(
        client.post(
            "/profile/phrase", data={"csrf_token": token, "phrase-phrase": "x\ny"}
        ).status_code
    )
    statuses.append(client.get("/write").status_code)
    clock.advance(days=31)
    statuses.append(login(client).status_code)
    statuses.append(read(client, sealed.armored).status_code)
    assert statuses == [200, 200, 400, 403, 200, 400, 200, 302, 410]
    unavailable = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert unavailable == []
