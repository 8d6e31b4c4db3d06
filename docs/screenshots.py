"""Regenerate the screenshots in docs/images from a real gateway and headless Chromium.

Run from the repository root: `.venv/bin/python docs/screenshots.py`. It starts
`webcrypt serve` on the embedded defaults in a temporary folder, sends the test mail
with `webcrypt send-test`, and walks through opening it as the customer does.

`.venv/bin/python docs/screenshots.py --every-page DIR` instead takes every portal and
admin page (the tours of the accessibility tests) at 360 px and 1280 px, in English and
German, into DIR: for looking at what a customer or an admin would stumble over.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.browser import first_login, launch
from tests.support.cli import WEBCRYPT, serve_environ
from tests.support.components import free_port

IMAGES = Path(__file__).parent / "images"
CUSTOMER = "kunde@example.com"
PASSWORD = "correct horse battery"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="webcrypt-shots-"))
    smtp_port, http_port = free_port(), free_port()
    env = serve_environ(smtp_port, http_port)
    server = subprocess.Popen([*WEBCRYPT, "serve"], cwd=workdir, env=env)
    try:
        time.sleep(4)
        sent = subprocess.run(
            [*WEBCRYPT, "send-test", "--to", CUSTOMER],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        secure_htm = re.search(r"file://(\S+)", sent)
        pin = re.search(r"PIN from the adviser's notice: (\d{4} \d{4})", sent)
        assert secure_htm and pin, sent
        shoot(Path(secure_htm.group(1)), pin.group(1))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def shoot(secure_htm: Path, pin: str) -> None:
    IMAGES.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page.goto(secure_htm.as_uri())
        page.screenshot(path=IMAGES / "secure-htm-phone.png", full_page=True)
        page.get_by_role("button", name="Open message").first.click()
        first_login(page, pin, PASSWORD)
        page.get_by_role("heading", name="Test message").wait_for()
        page.screenshot(path=IMAGES / "portal-message-phone.png", full_page=True)
        page.set_viewport_size({"width": 1200, "height": 800})
        page.screenshot(path=IMAGES / "portal-message.png", full_page=True)
        browser.close()


def every_page(folder: Path) -> None:
    """Screenshot every portal and admin page at both widths in both languages."""
    from portal import create_app
    from tests.admin.test_axe import admin_tour
    from tests.portal.conftest import TEST_CONFIG, make_runtime
    from tests.portal.helpers import FakeClock
    from tests.portal.pagetour import portal_tour
    from tests.support.axe import auditor, client_fetch

    folder.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "de"):
        work = Path(tempfile.mkdtemp(prefix="webcrypt-pages-"))
        clock = FakeClock()
        runtime = make_runtime(work, clock)
        app = create_app(runtime, {**TEST_CONFIG, "RATELIMIT_ADMIN_LOGIN": "1000 per minute"})
        shots = [*portal_tour(app, runtime, work, lang), *admin_tour(app, runtime, clock, lang)]
        with auditor(client_fetch(app.test_client())) as check:
            for shot in shots:
                name = re.sub(r"\W+", "-", shot.name)
                for width in (360, 1280):
                    check.load(shot.html, width=width, csp=shot.csp)
                    check.page.screenshot(
                        path=folder / f"{lang}-{width}-{name}.png", full_page=True
                    )
        runtime.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--every-page"]:
        every_page(Path(sys.argv[2]))
    else:
        main()
