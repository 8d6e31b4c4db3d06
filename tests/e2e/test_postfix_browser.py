"""The whole way in a real browser: Postfix delivers the carrier, Chromium opens secure.htm.

The attachment is saved from the mail that arrived at the final sink and opened
from a file:// URL with JavaScript off, as a recipient would open it from a
mail program; its button posts the envelope to the running portal, where the
recipient logs in with the PIN the adviser received, chooses a password and
reads the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import PASSWORD
from tests.e2e.gateway import Gateway, first_sealed, secure_htm
from tests.support.browser import CHROMIUM, PHRASE, chromium
from tests.support.components import free_port, need_program
from tests.support.postfix import PostfixInstance
from tests.support.smtp import RecordingSink

pytestmark = [pytest.mark.postfix, pytest.mark.browser, pytest.mark.slow]

CUSTOMER = "customer@example.com"
SECRET = "Your new credit line: 25,000 EUR."


def test_recipient_opens_secure_htm_from_a_file_and_reads_the_message(
    tmp_path: Path, mta: PostfixInstance, sink: RecordingSink
) -> None:
    need_program(CHROMIUM)
    port = free_port()
    portal_url = f"http://127.0.0.1:{port}"
    gateway = Gateway(
        tmp_path, config_toml=mta.webcrypt_toml(), WEBCRYPT_PORTAL_PUBLIC_URL=portal_url
    )
    gateway.init()
    try:
        gateway.filter()
        gateway.portal(port)
        carrier, pin = first_sealed(mta, sink, CUSTOMER, "Credit line WebCrypt", SECRET)
        attachment = tmp_path / "secure.htm"
        attachment.write_bytes(secure_htm(carrier))

        with chromium() as browser:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.goto(attachment.as_uri())
            page.click("button[value=en]")
            page.wait_for_url(f"{portal_url}/**")
            page.click("button[name=use_pin]")
            page.fill("input[name=email]", CUSTOMER)
            page.fill("input[name=pin]", pin)
            page.click("button.primary")
            page.fill("input[name=new_password]", PASSWORD)
            page.fill("input[name=confirm]", PASSWORD)
            page.check("input[name=question][value=first_pet]")
            page.fill("input[name=answer]", "Rex the dog")
            page.fill("input[name=phrase]", PHRASE)
            page.click("button.primary")
            assert SECRET in page.content()
    finally:
        gateway.stop()
