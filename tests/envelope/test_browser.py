"""secure.htm in a real browser: opened from a file with JavaScript off, it posts the envelope."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.envelope.conftest import recipient, seal_for, tiny_png
from tests.support.browser import chromium
from tests.support.components import free_port
from webcrypt.envelope import open, parse
from webcrypt.sealing.branding import Branding, logo_data_uri
from webcrypt.sealing.securehtm import render_secure_htm

pytestmark = pytest.mark.browser
ALICE = recipient("alice")


class Recorder(BaseHTTPRequestHandler):
    """Record every POST and answer with a short page."""

    posts: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.posts.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p>received</p>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[str]:
    Recorder.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _fields(headers: dict[str, str], body: bytes) -> dict[str, str]:
    raw = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body
    form = BytesParser(policy=policy.default).parsebytes(raw)
    return {
        part.get_param("name", header="content-disposition"): part.get_content().strip("\r\n")
        for part in form.iter_parts()
    }


def test_posts_the_envelope_without_javascript(portal: str, tmp_path: Path) -> None:
    message = b"Subject: Vertrag\r\n\r\n" + b"Guten Tag " * 20000
    sealed = seal_for(message, [ALICE], portal_url=portal)
    armored = sealed.armored(ALICE.address)
    page_file = tmp_path / "secure.htm"
    page_file.write_text(
        render_secure_htm(
            armored,
            sealed.headers[ALICE.address],
            branding=Branding(logo_data_uri=logo_data_uri(tiny_png(), "image/png")),
        ),
        encoding="ascii",
    )
    with chromium() as browser:
        phone = browser.new_context(viewport={"width": 360, "height": 740})
        page = phone.new_page()
        page.goto(page_file.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.get_by_text("Only enter your password on").first.is_visible()
        assert not page.locator("textarea").is_visible()
        # the logo's data: URI is split over lines and must still load
        assert page.evaluate("document.images[0].naturalWidth") == 40

        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(page_file.as_uri())
        with page.expect_navigation():
            page.get_by_role("button", name="Nachricht öffnen").click()
        assert "received" in page.content()
    [(path, headers, body)] = Recorder.posts
    assert path == "/open"
    assert headers["Content-Type"].startswith("multipart/form-data")
    fields = _fields(headers, body)
    assert fields["lang"] == "de"
    assert "\r\n" in fields["envelope"]
    assert open(parse(fields["envelope"]), ALICE.key) == message
