"""Regenerate the screenshots in docs/images from a real gateway and headless Chromium.

Run from the repository root: `.venv/bin/python docs/screenshots.py`. It starts
`webcrypt serve` on the embedded defaults in a temporary folder, sends the test mail
with `webcrypt send-test`, and walks through opening it as the customer does.
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


if __name__ == "__main__":
    main()
