"""Helpers of the admin tests beyond the fixtures: the first login of a new admin, and the
branding form as the page fills it in."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.admin.conftest import (
    ADMIN,
    code_at,
    create_admin,
    enrollment_secret,
    factor_step,
    password_step,
)
from tests.portal.helpers import FakeClock, csrf_token
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


def confirm_enrollment(client: FlaskClient, secret: str, clock: FakeClock, password: str) -> Any:
    """Post the enrollment's second step: the current code of `secret` and the new `password`."""
    return factor_step(client, code_at(secret, clock), new_password=password, confirm=password)


def branding_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    """The data of the branding form: the values the page shows, then `changes`."""
    page = client.get("/admin/branding")
    html = page.get_data(as_text=True)
    values = {
        "product_name": re.search(r'name="product_name" value="([^"]*)"', html).group(1),  # type: ignore[union-attr]
        "brand_color": re.search(r'name="brand_color" value="([^"]*)"', html).group(1),  # type: ignore[union-attr]
    }
    for name in ("footer_en", "footer_de", "contact_en", "contact_de"):
        values[name] = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', html).group(1)  # type: ignore[union-attr]
    return {**values, **changes, "csrf_token": csrf_token(page.data)}
