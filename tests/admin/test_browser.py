"""The main admin paths in real headless Chromium against the portal served by waitress.

First login with TOTP enrollment, find a recipient, reset the password; the PIN mail must
arrive at an SMTP sink. The branding previews must render inside their frames.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from keystore.clock import utcnow
from tests.admin.conftest import ADMIN, create_admin
from tests.portal.conftest import TEST_CONFIG, make_runtime, update_settings
from tests.portal.helpers import ADVISER, CUSTOMER, build_mail, seal
from tests.support.browser import ServerThread, chromium
from tests.support.components import free_port
from tests.support.smtp import RecordingSink
from webcrypt.runtime import Runtime

pytestmark = pytest.mark.browser
FIRST_PASSWORD = "one-time-password-123"
NEW_PASSWORD = "chosen admin password"


@pytest.fixture
def sink() -> Iterator[RecordingSink]:
    with RecordingSink() as running:
        yield running


@pytest.fixture
def served(tmp_path: Path, sink: RecordingSink) -> Iterator[tuple[str, Runtime]]:
    """The portal under waitress on a free port, its relay pointed at the sink."""
    from waitress import create_server

    from portal import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    runtime = make_runtime(
        tmp_path, utcnow, WEBCRYPT_PORTAL_RELAY=sink.url, WEBCRYPT_PORTAL_PUBLIC_URL=base
    )
    config = {**TEST_CONFIG, "RATELIMIT_ADMIN_LOGIN": "1000 per minute"}
    server = create_server(create_app(runtime, config), host="127.0.0.1", port=port, threads=4)
    web = ServerThread(server).start()
    try:
        yield base, runtime
    finally:
        web.stop()
        runtime.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_totp_login_find_recipient_and_reset_password(
    served: tuple[str, Runtime], browser: Any, sink: RecordingSink
) -> None:
    base, runtime = served
    create_admin(runtime, ADMIN, FIRST_PASSWORD, secret=None)
    seal(runtime, build_mail())  # creates the recipient's account, by the adviser
    update_settings(runtime, reset_pin="adviser")
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    # First login: password, then enroll the authenticator and choose a password.
    page.goto(f"{base}/admin/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#totp-secret")
    qr_width = page.eval_on_selector("p.qr img", "img => img.naturalWidth")
    assert qr_width > 0, "the QR code did not render"
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Finish setup").click()
    page.wait_for_selector("h1:text('Dashboard')")

    # Find the recipient by the start of the address and open the account.
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Address starts with").fill(CUSTOMER[:5].upper())
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=CUSTOMER).click()
    assert f"by {ADVISER}" in page.inner_text("main")

    # Reset the password: confirmation step, then the PIN goes out by mail.
    page.get_by_role("link", name="Reset password…").click()
    assert f"to the adviser ({ADVISER})" in page.inner_text("main")
    page.get_by_role("button", name="Reset and send a new PIN").click()
    page.wait_for_selector("p.notice.success")
    assert "New PIN mailed to the adviser" in page.inner_text("p.notice.success")

    received = sink.wait_for(2)
    assert [r.rcpt_tos for r in received] == [[ADVISER], [CUSTOMER]]
    assert received[1].parsed()["X-WebCrypt-Notice"] == "access_reset"
    body = received[0].parsed().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(r"^\s+(\d{4} \d{4})\s*$", body, re.M)
    assert match, body
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).authenticate_pin(CUSTOMER, match.group(1)).ok

    # The branding previews render inside their sandboxed frames.
    page.goto(f"{base}/admin/branding")
    page.get_by_label("Product name").fill("Bank Secure")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("text=They are not saved yet")
    page.wait_for_load_state("load")
    frames = [frame for frame in page.frames if "/admin/branding/preview/" in frame.url]
    assert len(frames) == 3, [frame.url for frame in page.frames]
    for frame in frames:
        frame.wait_for_load_state()
        assert "Bank Secure" in frame.content(), frame.url
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def _log_in(page: Any, base: str, secret: str, *, ahead: int = 0) -> None:
    """Log in as ADMIN; `ahead` time steps later than now (each TOTP code works once)."""
    page.goto(f"{base}/admin/login")
    page.locator("input[name=email]").fill(ADMIN)
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("form button[type=submit]").click()
    code = pyotp.TOTP(secret).at(utcnow(), counter_offset=ahead)
    page.locator("input[name=code]").fill(code)
    page.locator("form button[type=submit]").click()
    page.wait_for_selector("h1")


def test_the_language_an_admin_chooses_follows_them_to_the_next_login(
    served: tuple[str, Runtime], browser: Any
) -> None:
    base, runtime = served
    secret = pyotp.random_base32()
    create_admin(runtime, ADMIN, NEW_PASSWORD, secret=secret)
    english = browser.new_context(locale="en-US")
    page = english.new_page()
    _log_in(page, base, secret)
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Dashboard"

    page.get_by_role("link", name="Users").click()
    page.locator("footer").get_by_role("button", name="DE").click()
    page.wait_for_selector("html[lang=de]")
    assert page.url == f"{base}/admin/users"
    page.get_by_role("button", name="Abmelden").click()
    english.close()

    # Another browser, which asks for English: after the login the pages are German.
    elsewhere = browser.new_context(locale="en-US")
    page = elsewhere.new_page()
    _log_in(page, base, secret, ahead=1)
    assert page.get_attribute("html", "lang") == "de"
    assert page.inner_text("h1") == "Übersicht"
    elsewhere.close()
    with runtime.keystore.session() as session:
        stored = runtime.keystore.admins(session).get(ADMIN)
        assert stored is not None and stored.language == "de"
