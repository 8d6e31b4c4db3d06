"""End to end in headless Chromium: filter -> secure mailbox -> notification -> inbox.

A real message goes through the running filter with the delivery method "mailbox": the
customer gets a notification with a link and no attachment. A mail scanner fetches the
link first (nothing changes). The customer opens the link at the portal's old host name
(an alias, redirected), logs in with the PIN on a 360 px phone without JavaScript, lands
on the message, downloads the attachment and the .eml byte-identical, replies with an
attachment (the reply reaches the adviser), finds the message read in the inbox, deletes
it, and the link then says the message is gone.
"""

from __future__ import annotations

import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.portal.helpers import ADVISER, CUSTOMER, PASSWORD, build_mail, contract_mail
from tests.support.browser import LiveGateway, chromium, first_login, live_gateway, phone_page
from tests.support.components import free_port
from webcrypt import envelope

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[LiveGateway]:
    """Filter and portal on loopback; mail goes to the mailbox; localhost is an old name."""
    port = free_port()
    with live_gateway(
        tmp_path,
        port=port,
        WEBCRYPT_PORTAL_PUBLIC_URL_ALIASES=f"http://localhost:{port}",
        WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox",
    ) as running:
        yield running


def _entry(runtime: Any) -> Any:
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        entries = runtime.keystore.mailbox(session).page(int(recipient.id))
    return entries[0] if entries else None


def _sealed_plaintext(runtime: Any, entry_id: str) -> bytes:
    """Decrypt the stored envelope directly: what the filter sealed."""
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        stored = runtime.keystore.mailbox(session).envelope(int(recipient.id), entry_id)
        parsed = envelope.parse(stored)
        key = runtime.keystore.recipients(session).key(int(recipient.id), parsed.header.key_version)
    return envelope.open(parsed, key, max_size=20 * 1024 * 1024)


def _fits_the_phone(page: Any) -> bool:
    """Nothing on the page is wider than the 360 px window (no sideways scrolling)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_mailbox_link_login_read_download_reply_delete_in_chromium(
    gateway: LiveGateway, tmp_path: Path
) -> None:
    sink = gateway.sink
    runtime = gateway.runtime
    contract = os.urandom(60_000)
    notification, pin = gateway.send(ADVISER, CUSTOMER, contract_mail(contract))
    assert not list(notification.iter_attachments()), "the mailbox method attaches nothing"
    text = notification.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(gateway.portal)}/inbox/([A-Za-z0-9_-]+)", text)
    assert link, text
    entry_id = link.group(1)
    assert _entry(runtime).id == entry_id
    sink.clear()

    # A mail scanner fetches the link (no cookies): the login page, and nothing changes.
    with urllib.request.urlopen(link.group(0), timeout=30) as response:
        assert response.status == 200
        assert b'name="email"' in response.read()
    assert _entry(runtime).read_at is None

    old_link = f"http://localhost:{gateway.port}/inbox/{entry_id}"
    with chromium() as browser:
        page = phone_page(browser)
        page.goto(old_link)
        assert page.url == link.group(0)  # redirected from the old host name
        page.get_by_label("Email").fill(CUSTOMER)
        first_login(page, pin, PASSWORD, question="first_pet")

        # After login the customer is on the message of the link.
        page.get_by_role("heading", name="Ihr Vertrag").wait_for()
        assert page.url.startswith(gateway.portal)
        assert "anbei Ihr Vertrag." in page.locator(".mail-text").inner_text()
        assert _fits_the_phone(page)
        assert _entry(runtime).read_at is not None

        with page.expect_download() as download_info:
            page.get_by_role("button", name="Vertrag Übersicht.pdf").click()
        assert Path(download_info.value.path()).read_bytes() == contract
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Save the whole message (.eml)").click()
        eml = Path(download_info.value.path()).read_bytes()
        assert eml == _sealed_plaintext(runtime, entry_id)

        page.get_by_role("button", name="Reply", exact=True).click()
        page.get_by_label("Message").fill("Vielen Dank, anbei die Unterschrift.")
        scan = tmp_path / "unterschrift.pdf"
        scan.write_bytes(b"%PDF-1.4 signed")
        page.get_by_label("Attachments").set_input_files(str(scan))
        page.get_by_role("button", name="Send").click()
        page.get_by_role("heading", name="Your message has been sent").wait_for()
        page.get_by_role("button", name="Back to the message").click()
        page.get_by_role("link", name="Back to the inbox").click()

        page.get_by_role("heading", name="Inbox").wait_for()
        assert _fits_the_phone(page)
        item = page.locator(".inbox-item").first
        assert "Ihr Vertrag" in item.inner_text()
        assert "Unread" not in item.inner_text()
        assert "1 attachment" in item.inner_text()
        assert "Mailbox used:" in page.locator(".usage").inner_text()

        item.get_by_role("link", name=re.compile("^Delete")).click()
        page.get_by_role("heading", name="Delete the message?").wait_for()
        page.get_by_role("button", name="Delete for good").click()
        page.get_by_text("The message has been deleted.").wait_for()
        assert "Your inbox is empty" in page.content()

        page.goto(link.group(0))
        page.get_by_role("heading", name="This message is no longer in your mailbox").wait_for()
    assert _entry(runtime) is None

    (reply,) = sink.wait_for(1, timeout=30)
    assert reply.rcpt_tos == [ADVISER]
    message = reply.parsed()
    assert "anbei die Unterschrift" in message.get_body(("plain",)).get_content()
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["unterschrift.pdf"]


def test_an_old_secure_htm_posts_to_the_old_host_and_opens(
    gateway: LiveGateway, tmp_path: Path
) -> None:
    """secure.htm made before the move names the old address; its button still works."""
    from tests.support.runtime import seal_for
    from webcrypt.sealing.securehtm import render_secure_htm

    runtime = gateway.runtime
    sealed = seal_for(runtime, build_mail(body="Alter Link"), to=CUSTOMER, sender=ADVISER, days=30)
    header = envelope.parse(sealed.armored).header
    old = f"http://localhost:{gateway.port}"
    old_htm = render_secure_htm(sealed.armored, replace(header, portal_url=old))
    assert f'action="{old}/open"' in old_htm
    secure_htm = tmp_path / "secure.htm"
    secure_htm.write_text(old_htm)
    with chromium() as browser:
        page = browser.new_page(java_script_enabled=False)
        page.goto(secure_htm.as_uri())
        page.get_by_role("button", name="Open message").first.click()
        # 308 keeps the POST and its body: the new address shows the login with the envelope.
        page.wait_for_url(f"{gateway.portal}/open")
        assert page.get_by_label("Email").input_value() == CUSTOMER
        first_login(page, str(sealed.pin), PASSWORD)
        page.get_by_text("Alter Link").wait_for()
