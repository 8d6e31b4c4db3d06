"""Recipient sessions: ended on the server, limited in time, one keystore session at a time.

Logout, a new password, a reset, deactivation and deletion end every session of the
account in the keystore, so a copy of the cookie taken before is refused afterwards. The
absolute lifetime ends even a session in constant use; the idle timeout ends a quiet one.

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
from tests.portal.conftest import TEST_CONFIG, first_login, login, make_runtime, update_settings
from tests.portal.helpers import (
    CUSTOMER,
    FakeClock,
    build_mail,
    change_password,
    csrf_token,
    seal,
)
from tests.portal.sessionguard import NestedSession
from tests.portal.test_reader import read
from tests.support.sessions import busy_until_the_end, copy_of
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


# -- Revocation: a session ends on the server, so a copy of the cookie ends with it. -------


def logged_in_as_customer(client: FlaskClient) -> bool:
    """Tell whether `client` sees the profile of a logged-in recipient."""
    return b"Change password" in client.get("/profile").data


def recipient_service(runtime: Runtime, change: str) -> None:
    """Apply `change` to the customer's account through the keystore service."""
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        account = recipients.get(CUSTOMER)
        if change == "reset":
            recipients.reset_pin(account)
        elif change == "deactivate":
            recipients.set_status(account, "deactivated")
        elif change == "delete":
            recipients.delete(account)
        else:
            raise AssertionError(change)


def test_a_copied_cookie_no_longer_works_after_logout(logged_in: FlaskClient) -> None:
    stolen = copy_of(logged_in)
    assert logged_in_as_customer(stolen)
    token = csrf_token(logged_in.get("/profile").data)
    assert logged_in.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not logged_in_as_customer(stolen)
    assert not logged_in_as_customer(logged_in)


def test_logout_ends_the_sessions_on_other_devices_too(app: Any, account: str) -> None:
    phone, laptop = app.test_client(), app.test_client()
    login(phone)
    login(laptop)
    phone.post("/logout", data={"csrf_token": csrf_token(phone.get("/profile").data)})
    assert not logged_in_as_customer(laptop)


def test_a_copied_cookie_opens_no_message_after_logout(
    logged_in: FlaskClient, runtime: Runtime
) -> None:
    sealed = seal(runtime, build_mail(subject="Kontoauszug"))
    stolen = copy_of(logged_in)
    logged_in.post("/logout", data={"csrf_token": csrf_token(logged_in.get("/profile").data)})
    page = stolen.post("/open", data={"envelope": sealed.armored})
    assert b"Kontoauszug" not in page.data
    assert b'name="password"' in page.data


def test_a_copied_cookie_no_longer_works_after_a_password_change(
    logged_in: FlaskClient,
) -> None:
    stolen = copy_of(logged_in)
    assert change_password(logged_in, "my brand new secret 42").status_code == 302
    assert logged_in_as_customer(logged_in)  # the browser that changed it stays in
    assert not logged_in_as_customer(stolen)


@pytest.mark.parametrize("change", ["reset", "deactivate", "delete"])
def test_a_copied_cookie_no_longer_works_after_an_account_change(
    logged_in: FlaskClient, runtime: Runtime, change: str
) -> None:
    stolen = copy_of(logged_in)
    assert logged_in_as_customer(stolen)
    recipient_service(runtime, change)
    assert not logged_in_as_customer(stolen)
    assert not logged_in_as_customer(logged_in)


def test_a_session_ended_by_deactivation_stays_ended_after_reactivation(
    logged_in: FlaskClient, runtime: Runtime
) -> None:
    stolen = copy_of(logged_in)
    recipient_service(runtime, "deactivate")
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipients.set_status(recipients.get(CUSTOMER), "active")
    assert not logged_in_as_customer(stolen)


def test_logout_is_audited(logged_in: FlaskClient, runtime: Runtime) -> None:
    logged_in.post("/logout", data={"csrf_token": csrf_token(logged_in.get("/profile").data)})
    with runtime.keystore.session() as session:
        events = runtime.keystore.audit(session).search(action="portal.logout")
        # The `account` fixture logged out once after the first login already.
        assert [(event.actor, event.ip) for event in events] == [(CUSTOMER, "127.0.0.1")] * 2


def test_the_absolute_lifetime_ends_an_active_session(
    logged_in: FlaskClient, clock: FakeClock
) -> None:
    # A request every 20 minutes: the idle timeout (30 minutes) never fires.
    busy_until_the_end(clock, lambda: logged_in_as_customer(logged_in), every=20)
    page = logged_in.get("/profile")
    assert b"Change password" not in page.data
    assert b"Your session has ended" in page.data


def test_the_absolute_lifetime_follows_the_setting(
    logged_in: FlaskClient, clock: FakeClock, runtime: Runtime
) -> None:
    update_settings(runtime, session_max_hours=1)
    for _ in range(3):
        clock.advance(minutes=20)
        assert logged_in_as_customer(logged_in)
    clock.advance(minutes=1)
    assert not logged_in_as_customer(logged_in)


def test_the_idle_timeout_ends_a_young_session(logged_in: FlaskClient, clock: FakeClock) -> None:
    clock.advance(minutes=31)  # long before the absolute lifetime
    assert not logged_in_as_customer(logged_in)
