"""Headless Chromium through Playwright, the gateway on loopback for it to visit, and the
portal steps every browser test walks."""

from __future__ import annotations

import re
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.support.components import free_port, need, need_program
from tests.support.runtime import build_runtime, folder_environ
from tests.support.smtp import RecordingSink

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHRASE = "Green kettle on the balcony"
"""The security phrase test recipients choose on their first login."""


def launch(playwright: Any, executable: str = CHROMIUM) -> Any:
    """Start headless Chromium (the system's) under a running Playwright."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@contextmanager
def chromium() -> Iterator[Any]:
    """Yield a headless Chromium; skip the test (fail under CI) when it or Playwright is absent."""
    executable = need_program(CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        need(False, "playwright is not installed")
        raise
    with sync_playwright() as playwright:
        browser = launch(playwright, executable)
        try:
            yield browser
        finally:
            browser.close()


def phone_page(browser: Any) -> Any:
    """A new page in a phone-sized window (360 px) with JavaScript off: every step of the
    customer's must work without it."""
    return browser.new_page(
        accept_downloads=True,
        viewport={"width": 360, "height": 740},
        java_script_enabled=False,
    )


class ServerThread:
    """Run a waitress server in a thread and stop it cleanly (no error from the poll loop)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self.stopping:
                raise

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping = True
        # Close every channel (listener and trigger), so the poll loop ends by itself.
        for channel in list(self.server._map.values()):
            channel.handle_close()
        self.server.task_dispatcher.shutdown()
        self.thread.join(10)


@dataclass(frozen=True)
class LiveGateway:
    """The portal at `portal` (port `port`) and, when started, the filter, on loopback."""

    runtime: Any
    sink: RecordingSink
    portal: str
    port: int
    filter: Any = None

    def send(self, sender: str, recipient: str, raw: bytes) -> tuple[EmailMessage, str]:
        """Send `raw` through the filter; return what reached `recipient` and the PIN of the
        notice to `sender` (a first message to the recipient)."""
        with smtplib.SMTP("127.0.0.1", self.filter.port, timeout=30) as client:
            client.sendmail(sender, [recipient], raw)
        received = self.sink.wait_for(2, timeout=30)
        delivered = next(m for m in received if recipient in m.rcpt_tos).parsed()
        notice = next(m for m in received if sender in m.rcpt_tos).parsed()
        text = notice.get_body(("plain",))
        assert text is not None, "the adviser's notice has no text"
        pin = re.search(r"\b(\d{4} \d{4})\b", text.get_content())
        assert pin, "no PIN in the adviser's notice"
        return delivered, pin.group(1)


@contextmanager
def live_gateway(
    folder: Path, *, port: int | None = None, with_filter: bool = True, **environ: str
) -> Iterator[LiveGateway]:
    """Run the portal (waitress, in a thread, on `port` or a free one) and, `with_filter`, the
    filter on loopback, on a runtime in `folder` with `environ`; mail and replies go to a
    recording sink."""
    # Imported here: the gateway's packages load only for the tests that start it.
    import portal
    from webcrypt.smtp.handler import FilterServer

    need_program(CHROMIUM)
    port = port or free_port()
    session_key = folder / "session.key"
    session_key.write_text("browser-test-session-key")
    session_key.chmod(0o600)
    with RecordingSink() as sink:
        settings = {
            "WEBCRYPT_FILTER_RELAY": sink.url,
            "WEBCRYPT_PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "WEBCRYPT_PORTAL_LISTEN": f"127.0.0.1:{port}",
            **environ,
        }
        runtime = build_runtime(folder_environ(folder, **settings))
        filter_server = None
        if with_filter:
            filter_server = FilterServer(runtime, listen="127.0.0.1:0")
            filter_server.start()
        web = ServerThread(portal.create_server(runtime, threads=4)).start()
        try:
            yield LiveGateway(runtime, sink, f"http://127.0.0.1:{port}", port, filter_server)
        finally:
            web.stop()
            if filter_server is not None:
                filter_server.stop(drain_timeout=5)
            runtime.close()


def first_login(page: Any, pin: str, password: str, *, question: str | None = None) -> None:
    """On the portal's login page: log in with the PIN, then choose the password and answers.

    `question` picks a security question; without it the form's preselected one stays.
    """
    page.get_by_role("button", name="First login with a PIN").click()
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    if question is not None:
        page.locator(f"input[name=question][value={question}]").check()
    page.get_by_label("Answer", exact=True).fill("Bello")
    page.get_by_label("Security phrase").fill(PHRASE)
    page.get_by_role("button", name="Save and continue").click()
