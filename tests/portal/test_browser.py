"""End to end in headless Chromium: filter -> secure.htm -> portal -> reply at an SMTP sink.

A real message goes through the running filter; its secure.htm is opened from a file://
URL, the button posts it to the portal (served by waitress), the recipient logs in with
the PIN from the adviser's notice, chooses a password, reads, downloads an attachment
and replies. The reply must arrive at the SMTP sink, addressed to the adviser only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portal.helpers import ADVISER, CUSTOMER, PASSWORD, build_mail, contract_mail
from tests.support.browser import LiveGateway, chromium, first_login, live_gateway, phone_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[LiveGateway]:
    """Filter and portal (waitress, in a thread) on loopback, relaying to a recording sink."""
    with live_gateway(tmp_path) as running:
        yield running


def test_open_read_download_and_reply_in_chromium(gateway: LiveGateway, tmp_path: Path) -> None:
    sink = gateway.sink
    contract = os.urandom(50_000)
    carrier, pin = gateway.send(ADVISER, CUSTOMER, contract_mail(contract))
    secure = next(p for p in carrier.iter_attachments() if p.get_filename() == "secure.htm")
    secure_htm = tmp_path / "secure.htm"
    content = secure.get_content()
    secure_htm.write_bytes(content.encode() if isinstance(content, str) else content)
    sink.clear()

    with chromium() as browser:
        page = phone_page(browser)
        page.goto(secure_htm.as_uri())
        page.get_by_role("button", name="Open message").first.click()
        page.wait_for_url(f"{gateway.portal}/open")
        assert page.get_by_label("Email").input_value() == CUSTOMER

        first_login(page, pin, PASSWORD, question="first_pet")

        page.get_by_role("heading", name="Ihr Vertrag").wait_for()
        assert "anbei Ihr Vertrag." in page.locator(".mail-text").inner_text()
        page.screenshot(path=str(tmp_path / "message-360.png"), full_page=True)

        with page.expect_download() as download_info:
            page.get_by_role("button", name="Vertrag Übersicht.pdf").click()
        download = download_info.value
        assert download.suggested_filename == "Vertrag Übersicht.pdf"
        assert Path(download.path()).read_bytes() == contract

        page.get_by_role("button", name="Reply", exact=True).click()
        page.get_by_label("Message").fill("Vielen Dank, ich unterschreibe heute.")
        page.get_by_role("button", name="Send").click()
        page.get_by_role("heading", name="Your message has been sent").wait_for()

    (reply,) = sink.wait_for(1, timeout=30)
    assert reply.rcpt_tos == [ADVISER]
    message = reply.parsed()
    assert message["From"] == CUSTOMER and message["Reply-To"] == CUSTOMER
    assert "WebCrypt" in message["Subject"]
    assert "ich unterschreibe heute" in message.get_body(("plain",)).get_content()


def test_upload_and_html_mail_in_the_sandboxed_frame(gateway: LiveGateway, tmp_path: Path) -> None:
    from tests.portal.helpers import seal
    from webcrypt import envelope
    from webcrypt.sealing.securehtm import render_secure_htm

    raw = build_mail(
        html_body=(
            '<p id="greeting" style="color: #0a0">Hallo aus HTML</p>'
            '<img id="tracker" src="http://127.0.0.1:9/pixel.gif" alt="">'
            "<script>document.title = 'owned'</script>"
        )
    )
    sealed = seal(gateway.runtime, raw)
    secure_htm = tmp_path / "secure.htm"
    secure_htm.write_text(render_secure_htm(sealed.armored, envelope.parse(sealed.armored).header))
    with chromium() as browser:
        page = browser.new_page()
        blocked: list[str] = []
        page.on("request", lambda request: blocked.append(request.url))
        page.goto(f"{gateway.portal}/upload")
        page.get_by_label("File (secure.htm or .eml)").set_input_files(str(secure_htm))
        page.get_by_role("button", name="Open", exact=True).click()
        first_login(page, str(sealed.pin), PASSWORD)
        frame = page.frame_locator("iframe.mail-frame")
        greeting = frame.get_by_text("Hallo aus HTML")
        greeting.wait_for()
        assert greeting.evaluate("e => getComputedStyle(e).color") == "rgb(0, 170, 0)"
        assert page.title() != "owned"
        assert not any("pixel.gif" in url for url in blocked)
