"""Admin TOTP secrets: wrapped under the master key in the database, never in clear in a cookie."""

from __future__ import annotations

from typing import Any

import pyotp
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from keystore.masterkey import MasterKey
from keystore.masterrotation import rotate_master_key
from portal.admin.session import COOKIE, SALT
from tests.admin.conftest import (
    ADMIN,
    Account,
    create_admin,
    enrollment_secret,
    log_in,
    password_step,
)
from tests.admin.helpers import confirm_enrollment, enrollment
from tests.portal.conftest import TEST_CONFIG
from tests.portal.helpers import FakeClock
from webcrypt.runtime import Runtime

NEW_PASSWORD = "my own admin password"


def admin_rows(runtime: Runtime) -> str:
    """Return every value of the admins table as one text."""
    with runtime.keystore.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM admins")).all()
    return repr([tuple(row) for row in rows])


def admin_cookie(client: FlaskClient) -> tuple[str, dict[str, Any]]:
    """Return the admin cookie as sent and its signed content."""
    cookie = client.get_cookie(COOKIE, path="/admin")
    assert cookie is not None
    content = URLSafeTimedSerializer(TEST_CONFIG["SECRET_KEY"], salt=SALT).loads(cookie.value)
    return cookie.value, content


def test_enrollment_keeps_the_secret_out_of_cookie_and_database(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    _, secret = enrollment(client, runtime)
    raw, content = admin_cookie(client)
    assert secret not in raw and secret not in repr(content)
    assert "enroll" in content  # it is there, encrypted
    response = confirm_enrollment(client, secret, clock, NEW_PASSWORD)
    assert response.status_code == 302
    assert secret not in admin_rows(runtime)
    with runtime.keystore.session() as session:
        admins = runtime.keystore.admins(session)
        assert admins.totp_secret(admins.get(ADMIN)) == secret
    raw, content = admin_cookie(client)
    assert secret not in raw and "enroll" not in content


def test_an_enrollment_cookie_of_another_account_is_useless(
    client: FlaskClient, runtime: Runtime
) -> None:
    create_admin(runtime, ADMIN, "one-time-password-123", secret=None)
    create_admin(runtime, "zweit@bank.example", "one-time-password-456", secret=None)
    password_step(client, ADMIN, "one-time-password-123")
    first = client.get("/admin/login/factor").get_data(as_text=True)
    sealed = admin_cookie(client)[1]["enroll"]
    other = client.application.test_client()
    password_step(other, "zweit@bank.example", "one-time-password-456")
    # Replaying the first account's encrypted secret in the second's session does not work:
    # the second account is shown a secret of its own.
    _raw, state = admin_cookie(other)
    state["enroll"] = sealed
    forged = URLSafeTimedSerializer(TEST_CONFIG["SECRET_KEY"], salt=SALT).dumps(state)
    other.set_cookie(COOKIE, forged, path="/admin")
    second = other.get("/admin/login/factor").get_data(as_text=True)
    assert enrollment_secret(first) != enrollment_secret(second)


def test_a_clear_secret_from_before_is_read_and_wrapped_at_the_next_login(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    secret = pyotp.random_base32()
    create_admin(runtime, ADMIN, "admin password 2026", secret=None)
    with runtime.keystore.engine.begin() as connection:
        connection.execute(text("UPDATE admins SET totp_secret = :s"), {"s": secret})
    log_in(client, Account(ADMIN, "admin password 2026", secret), clock)
    assert client.get("/admin/").status_code == 200
    assert secret not in admin_rows(runtime)
    clock.advance(seconds=30)
    log_in(client.application.test_client(), Account(ADMIN, "admin password 2026", secret), clock)


def test_master_key_rotation_rewraps_the_secrets(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    secret = pyotp.random_base32()
    create_admin(runtime, ADMIN, "admin password 2026", secret=secret)
    before = admin_rows(runtime)
    rotate_master_key(runtime.keystore, MasterKey.generate())
    assert admin_rows(runtime) != before and secret not in admin_rows(runtime)
    log_in(client, Account(ADMIN, "admin password 2026", secret), clock)
