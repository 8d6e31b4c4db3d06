"""Fixtures for the admin area: a portal app on a fresh keystore, admin accounts, logins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.portal import conftest as portal_fixtures
from tests.portal.conftest import TEST_CONFIG, update_settings
from tests.portal.helpers import CUSTOMER, FakeClock, csrf_token
from tests.support.apps import portal_app
from webcrypt.runtime import Runtime

ADMIN = "chef@bank.example"
HELPDESK = "hilfe@bank.example"
ADMIN_PASSWORD = "admin password 2026"
HELPDESK_PASSWORD = "helpdesk password 2026"
SECRETS = {ADMIN: pyotp.random_base32(), HELPDESK: pyotp.random_base32()}


@dataclass
class Account:
    """An admin account the tests log in with."""

    email: str
    password: str
    secret: str


# The portal's own fixtures serve here too: a clock to move, a runtime, a test client of `app`.
clock = portal_fixtures.clock
runtime = portal_fixtures.runtime
client = portal_fixtures.client


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    """The portal application (admin area included)."""
    return portal_app(runtime, {**TEST_CONFIG, "RATELIMIT_ADMIN_LOGIN": "1000 per minute"})


def create_admin(
    runtime: Runtime, email: str, password: str, *, role: str = "admin", secret: str | None
) -> None:
    """Create an admin account, enrolled in TOTP when `secret` is given."""
    with runtime.keystore.session() as session:
        service = runtime.keystore.admins(session)
        admin = service.create(email, role=role, password=password)
        if secret:
            service.set_totp_secret(admin, secret)


@pytest.fixture
def admin_account(runtime: Runtime) -> Account:
    """An enrolled admin."""
    create_admin(runtime, ADMIN, ADMIN_PASSWORD, secret=SECRETS[ADMIN])
    return Account(ADMIN, ADMIN_PASSWORD, SECRETS[ADMIN])


@pytest.fixture
def helpdesk_account(runtime: Runtime) -> Account:
    """An enrolled helpdesk user."""
    create_admin(runtime, HELPDESK, HELPDESK_PASSWORD, role="helpdesk", secret=SECRETS[HELPDESK])
    return Account(HELPDESK, HELPDESK_PASSWORD, SECRETS[HELPDESK])


def code_at(secret: str, clock: FakeClock) -> str:
    """Return the TOTP code of `secret` at the test clock's time."""
    return pyotp.TOTP(secret).at(clock.now)


def enrollment_secret(page: str | bytes) -> str:
    """Return the TOTP secret an enrollment page shows (spaces removed)."""
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', text)
    assert match, "no secret on the enrollment page"
    return match.group(1).replace(" ", "")


def password_step(client: FlaskClient, email: str, password: str) -> Any:
    """Post the login form; return the response."""
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(page.data), "email": email, "password": password},
    )


def factor_step(client: FlaskClient, code: str, **extra: str) -> Any:
    """Post the second-factor form; return the response."""
    page = client.get("/admin/login/factor")
    return client.post(
        "/admin/login/factor",
        data={"csrf_token": csrf_token(page.data), "code": code, **extra},
    )


def log_in(client: FlaskClient, account: Account, clock: FakeClock) -> FlaskClient:
    """Log `client` in as `account` (password and TOTP)."""
    response = password_step(client, account.email, account.password)
    assert response.status_code == 302, response.data[:2000]
    response = factor_step(client, code_at(account.secret, clock))
    assert response.status_code == 302, response.data[:2000]
    return client


@pytest.fixture
def admin_client(client: FlaskClient, admin_account: Account, clock: FakeClock) -> FlaskClient:
    """A client logged in as the admin."""
    return log_in(client, admin_account, clock)


@pytest.fixture
def helpdesk_client(
    client: FlaskClient, helpdesk_account: Account, clock: FakeClock
) -> FlaskClient:
    """A client logged in as the helpdesk user."""
    return log_in(client, helpdesk_account, clock)


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """GET `url`, then POST `data` to it with the page's CSRF token."""
    page = client.get(url)
    assert page.status_code == 200, page.data[:2000]
    return client.post(url, data={"csrf_token": csrf_token(page.data), **(data or {})}, **kw)


def audit_actions(runtime: Runtime) -> list[tuple[str, str, str]]:
    """Return (action, actor, target) of every audit event, oldest first."""
    with runtime.keystore.session() as session:
        events = runtime.keystore.audit(session).search(limit=1000)
        return [(e.action, e.actor, e.target) for e in reversed(events)]


def text_of(response: Any) -> str:
    """Return a response body as text with tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def without_adviser(runtime: Runtime) -> int:
    """Create an account no adviser is on record for, PINs after a reset going to the adviser;
    return its id."""
    with runtime.keystore.session() as session:
        recipient, _pin = runtime.keystore.recipients(session).get_or_create(
            "walkin@example.com", created_by=""
        )
        recipient_id = int(recipient.id)
    update_settings(runtime, reset_pin="adviser")
    return recipient_id


def account_id(runtime: Runtime, address: str = CUSTOMER) -> int:
    """Return the id of the recipient account of `address`."""
    with runtime.keystore.session() as session:
        return int(runtime.keystore.recipients(session).get(address).id)


def pin_in(mail: bytes) -> str:
    """Return the one-time PIN written in a PIN mail."""
    message = message_from_bytes(mail, policy=policy.default)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    digits = [line.strip() for line in body.splitlines() if line.strip().replace(" ", "").isdigit()]
    assert digits, body
    return digits[0]
