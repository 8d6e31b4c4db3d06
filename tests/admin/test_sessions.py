"""Admin sessions end on the server: a copy of the cookie dies with logout and account changes.

Also: the admin frontend's actions on a customer (reset, deactivate, delete) end the
customer's sessions, and the absolute lifetime ends an admin session in constant use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.admin.conftest import (
    ADMIN,
    SECRETS,
    Account,
    account_id,
    audit_actions,
    log_in,
    post_form,
    text_of,
)
from tests.portal.conftest import first_login
from tests.portal.helpers import CUSTOMER, FakeClock, build_mail, csrf_token, seal
from tests.support.sessions import busy_until_the_end, copy_of
from webcrypt.runtime import Runtime

ADMIN_COOKIE = "webcrypt_admin"


def in_admin_area(client: FlaskClient) -> bool:
    """Tell whether `client` holds a valid admin session."""
    return client.get("/admin/users").status_code == 200


def admin_change(runtime: Runtime, apply: Callable[[Any, Any], None]) -> None:
    """Apply a change to the admin's account through the keystore service."""
    with runtime.keystore.session() as session:
        admins = runtime.keystore.admins(session)
        apply(admins, admins.get(ADMIN))


def test_a_copied_admin_cookie_no_longer_works_after_logout(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    stolen = copy_of(admin_client, ADMIN_COOKIE, "/admin")
    assert in_admin_area(stolen)
    token = csrf_token(admin_client.get("/admin/users").data)
    assert admin_client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert not in_admin_area(admin_client)
    assert not in_admin_area(stolen)
    assert ("admin.logout", ADMIN, ADMIN) in audit_actions(runtime)


CHANGES: dict[str, Callable[[Any, Any], None]] = {
    "password": lambda admins, admin: admins.set_password(admin, "a different admin secret"),
    "reset-2fa": lambda admins, admin: admins.set_totp_secret(admin, None),
    "new authenticator": lambda admins, admin: admins.set_totp_secret(admin, SECRETS[ADMIN]),
    "disable": lambda admins, admin: admins.disable(admin),
    "delete": lambda admins, admin: admins.delete(admin),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_copied_admin_cookie_no_longer_works_after_an_account_change(
    admin_client: FlaskClient, runtime: Runtime, change: str
) -> None:
    stolen = copy_of(admin_client, ADMIN_COOKIE, "/admin")
    assert in_admin_area(stolen)
    admin_change(runtime, CHANGES[change])
    assert not in_admin_area(stolen)
    assert not in_admin_area(admin_client)


def test_a_disabled_and_enabled_admin_must_log_in_again(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    stolen = copy_of(admin_client, ADMIN_COOKIE, "/admin")
    admin_change(runtime, lambda admins, admin: admins.disable(admin))
    admin_change(runtime, lambda admins, admin: admins.enable(admin))
    assert not in_admin_area(stolen)


def test_another_login_keeps_the_first_session(
    admin_client: FlaskClient, runtime: Runtime, admin_account: Account, clock: FakeClock
) -> None:
    clock.advance(seconds=30)
    log_in(admin_client.application.test_client(), admin_account, clock)
    assert in_admin_area(admin_client)


def test_the_absolute_lifetime_ends_an_active_admin_session(
    admin_client: FlaskClient, clock: FakeClock
) -> None:
    # A request every 10 minutes: the idle timeout (15 minutes) never fires.
    busy_until_the_end(clock, lambda: in_admin_area(admin_client), every=10)
    response = admin_client.get("/admin/users")
    assert response.status_code == 302
    # Not reported as inactivity: the session was in use.
    assert "inactivity" not in text_of(admin_client.get(response.headers["Location"]))


# -- The admin's actions end the customer's sessions ----------------------------------------


@pytest.fixture
def customer(runtime: Runtime, admin_client: FlaskClient) -> FlaskClient:
    """A logged-in customer in a browser of their own (with an adviser for PIN mails)."""
    browser = admin_client.application.test_client()
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    first_login(browser, sealed.pin)
    assert b"Change password" in browser.get("/profile").data
    return browser


@pytest.mark.parametrize("action", ["reset", "deactivate", "delete"])
def test_the_admins_actions_end_every_customer_session(
    admin_client: FlaskClient, customer: FlaskClient, runtime: Runtime, action: str
) -> None:
    stolen = copy_of(customer)
    assert b"Change password" in stolen.get("/profile").data
    url = f"/admin/users/{account_id(runtime)}/{action}"
    response = post_form(admin_client, url, {"confirm": "yes", "typed": CUSTOMER})
    assert response.status_code == 302
    assert b"Change password" not in stolen.get("/profile").data
    assert b"Change password" not in customer.get("/profile").data
