"""Helpers of the admin tests beyond the fixtures: the first login of a new admin."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.admin.conftest import ADMIN, create_admin, enrollment_secret, password_step
from webcrypt.runtime import Runtime

ONE_TIME = "one-time-password-123"
"""The password a new admin gets from whoever created the account."""


def enrollment(client: FlaskClient, runtime: Runtime, password: str = ONE_TIME) -> tuple[Any, str]:
    """Create ADMIN without an authenticator and pass the password step with `password`;
    return the enrollment page and the TOTP secret it shows."""
    create_admin(runtime, ADMIN, password, secret=None)
    password_step(client, ADMIN, password)
    page = client.get("/admin/login/factor")
    return page, enrollment_secret(page.data)
