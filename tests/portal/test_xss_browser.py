"""Attack payloads in real headless Chromium: not one script may run on the portal.

Each payload from `xss_payloads.json` goes into a sealed message, in the HTML body, an
attachment's file name, the subject or the adviser's display name. Chromium opens the
message the way a customer does (secure.htm from a file, the button, the portal) and
then the reply page. Executions are counted three ways: calls of `__pwned` (a function
exposed to every frame), `alert` dialogs, and console errors or page errors that name
`__pwned` (a payload that ran where the function is missing). A control case shows that
the counter sees an execution, also inside a sandboxed frame that allows scripts.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from pathlib import Path
from typing import Any

import pytest

from tests.portal.helpers import ADVISER, CUSTOMER, PASSWORD, seal
from tests.support.browser import CHROMIUM, ServerThread, chromium, first_login
from tests.support.components import free_port, need_program
from tests.support.runtime import build_runtime, folder_environ
from webcrypt import envelope
from webcrypt.sealing.securehtm import render_secure_htm

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOADS = json.loads((Path(__file__).with_name("xss_payloads.json")).read_text("utf-8"))
KINDS = ("html_body", "file_name", "subject", "display_name")
# Time for asynchronous handlers (image errors, autofocus, toggle) to fire after load.
SETTLE_MS = 150
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "xlink:href", "srcdoc")


def cases() -> list[tuple[str, str]]:
    """Every (kind, payload) pair of the data file."""
    return [(kind, payload) for kind in KINDS for payload in PAYLOADS[kind]]


def hostile_mail(kind: str, payload: str) -> bytes:
    """An adviser's mail carrying `payload` in the place named by `kind`."""
    message = EmailMessage(policy=SMTP)
    if kind == "display_name":
        message["From"] = (
            f"{payload} <{ADVISER}>" if payload.startswith("=?") else formataddr((payload, ADVISER))
        )
    else:
        message["From"] = formataddr(("Berta Berater", ADVISER))
    message["To"] = CUSTOMER
    message["Subject"] = payload if kind == "subject" else "Ihr Vertrag"
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0100"
    message["Message-ID"] = f"<{os.urandom(8).hex()}@bank.example>"
    message.set_content("Guten Tag,\nanbei der Vertrag.\n")
    if kind == "html_body":
        message.add_alternative(f"<p>Guten Tag,</p>{payload}<p>Ende</p>", subtype="html")
    name = payload if kind == "file_name" else "Vertrag.pdf"
    message.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


@dataclass
class Counter:
    """Script executions seen in a browser context."""

    calls: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.calls) + len(self.dialogs) + len(self.errors)

    def watch(self, context: Any) -> None:
        """Count in every page of `context`, popups included."""
        context.expose_function("__pwned", lambda *args: self.calls.append(repr(args)))
        context.on("page", self._page)

    def _page(self, page: Any) -> None:
        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if "__pwned" in m.text else None,
        )
        page.on(
            "pageerror",
            lambda e: self.errors.append(str(e)) if "__pwned" in str(e) else None,
        )


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The portal (waitress, in a thread) on loopback, with rate limits off for the run."""
    from waitress import create_server

    from portal import create_app

    need_program(CHROMIUM)
    tmp_path = tmp_path_factory.mktemp("xss")
    port = free_port()
    session_key = tmp_path / "session.key"
    session_key.write_text("xss-test-session-key")
    session_key.chmod(0o600)
    environ = folder_environ(tmp_path, WEBCRYPT_PORTAL_PUBLIC_URL=f"http://127.0.0.1:{port}")
    runtime = build_runtime(environ)
    app = create_app(runtime, {"RATELIMIT_ENABLED": False})
    web = ServerThread(create_server(app, host="127.0.0.1", port=port, threads=4)).start()
    try:
        yield {"runtime": runtime, "portal": f"http://127.0.0.1:{port}", "dir": tmp_path}
    finally:
        web.stop()
        runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def secure_htm_file(server: dict[str, Any], armored: str, name: str) -> Path:
    """Write the recipient's secure.htm for a sealed message to a file."""
    target = server["dir"] / f"{name}.htm"
    html = render_secure_htm(armored, envelope.parse(armored).header)
    target.write_text(html, encoding="ascii")
    return target


def open_from_file(page: Any, path: Path) -> None:
    """Open secure.htm from a file and press its button, which posts to the portal."""
    page.goto(path.as_uri())
    page.get_by_role("button", name="Open message").first.click()
    page.wait_for_load_state("load")


def settle(page: Any) -> None:
    page.wait_for_load_state("load")
    page.wait_for_timeout(SETTLE_MS)


def dangerous_urls(page: Any) -> list[str]:
    """Attributes in any frame of the page that would run script when followed or loaded."""
    found: list[str] = []
    script = """(names) => {
        const bad = [];
        for (const el of document.querySelectorAll('*')) {
            for (const attr of el.attributes) {
                const name = attr.name.toLowerCase();
                const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
                if (name.startsWith('on') || (names.includes(name) &&
                        (value.startsWith('javascript:') || value.startsWith('data:text/html')))) {
                    bad.push(el.tagName + ' ' + name + '=' + attr.value);
                }
            }
            if (el.tagName === 'SCRIPT' && !el.src.startsWith(location.origin)) {
                bad.push('SCRIPT ' + el.textContent.slice(0, 60));
            }
        }
        return bad;
    }"""
    for frame in page.frames:
        try:
            found.extend(frame.evaluate(script, list(URL_ATTRIBUTES)))
        except Exception as exc:  # a frame that navigated away mid-way
            found.append(f"unreadable frame {frame.url}: {exc}")
    return found


@pytest.fixture(scope="module")
def customer_page(portal_server: dict[str, Any], browser: Any) -> Iterator[tuple[Any, Counter]]:
    """A page logged in as the customer (first login with the PIN), with a counter."""
    counter = Counter()
    context = browser.new_context()
    counter.watch(context)
    page = context.new_page()
    sealed = seal(portal_server["runtime"], hostile_mail("subject", "Willkommen"))
    assert sealed.pin
    open_from_file(page, secure_htm_file(portal_server, sealed.armored, "first"))
    first_login(page, sealed.pin, PASSWORD)
    page.get_by_role("heading", name="Willkommen").wait_for()
    try:
        yield page, counter
    finally:
        context.close()


def test_the_counter_sees_an_execution(browser: Any) -> None:
    """Control: the detectors fire for a payload that does run, even in a sandboxed frame."""
    counter = Counter()
    context = browser.new_context()
    counter.watch(context)
    try:
        page = context.new_page()
        page.set_content(
            '<iframe sandbox="allow-scripts" srcdoc="<script>__pwned(1)</script>"></iframe>'
            "<img src=x onerror=__pwned(2)><script>alert(3)</script>"
        )
        settle(page)
        assert counter.total >= 3, counter
    finally:
        context.close()


@pytest.mark.parametrize(("kind", "payload"), cases())
def test_no_payload_runs_on_the_portal(
    portal_server: dict[str, Any], customer_page: tuple[Any, Counter], kind: str, payload: str
) -> None:
    page, counter = customer_page
    before = counter.total
    name = re.sub(r"\W", "_", f"{kind}-{len(payload)}-{abs(hash(payload))}")
    sealed = seal(portal_server["runtime"], hostile_mail(kind, payload))
    path = secure_htm_file(portal_server, sealed.armored, name)
    # Logged in, the customer picks the saved secure.htm on the upload page (a post from
    # the file itself would need a new login: the session cookie is SameSite=Lax).
    page.goto(f"{portal_server['portal']}/upload")
    page.get_by_label("File (secure.htm or .eml)").set_input_files(str(path))
    page.get_by_role("button", name="Open", exact=True).click()
    settle(page)
    assert page.url.startswith(portal_server["portal"]), page.url
    assert page.locator("article.message").count() == 1, page.content()[:2000]
    problems = dangerous_urls(page)
    page.get_by_role("button", name="Reply", exact=True).click()
    page.get_by_role("heading", name="Reply securely").wait_for()
    settle(page)
    problems += dangerous_urls(page)
    assert counter.total == before, (counter, payload)
    assert problems == [], (problems, payload)
