"""Regenerate the screenshots in docs/images from a real gateway and headless Chromium.

Run from the repository root: `.venv/bin/python docs/screenshots.py`. It starts
`webcrypt serve` on the embedded defaults in a temporary folder, sends the test mail
with `webcrypt send-test`, and walks through opening it as the customer does.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

IMAGES = Path(__file__).parent / "images"
CUSTOMER = "kunde@example.com"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="webcrypt-shots-"))
    smtp_port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCRYPT_")}
    env.update(
        WEBCRYPT_FILTER_LISTEN=f"127.0.0.1:{smtp_port}",
        WEBCRYPT_PORTAL_LISTEN=f"127.0.0.1:{http_port}",
        WEBCRYPT_PORTAL_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
    )
    webcrypt = [sys.executable, "-m", "webcrypt.cli.main"]
    server = subprocess.Popen([*webcrypt, "serve"], cwd=workdir, env=env)
    try:
        time.sleep(4)
        sent = subprocess.run(
            [*webcrypt, "send-test", "--to", CUSTOMER],
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
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page.goto(secure_htm.as_uri())
        page.screenshot(path=IMAGES / "secure-htm-phone.png", full_page=True)
        page.get_by_role("button", name="Open message").first.click()
        page.get_by_role("button", name="First login with a PIN").click()
        page.get_by_label("PIN", exact=True).fill(pin)
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("New password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the new password").fill(PASSWORD)
        page.get_by_label("Answer", exact=True).fill("Bello")
        page.get_by_label("Security phrase").fill("Green kettle on the balcony")
        page.get_by_role("button", name="Save and continue").click()
        page.get_by_role("heading", name="Test message").wait_for()
        page.screenshot(path=IMAGES / "portal-message-phone.png", full_page=True)
        page.set_viewport_size({"width": 1200, "height": 800})
        page.screenshot(path=IMAGES / "portal-message.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
