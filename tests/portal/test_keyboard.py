"""The whole customer journey with the keyboard alone, in Chromium: open secure.htm, first
login with the PIN, choose the password, read, download, reply, log out.

Only Tab, Shift+Tab, Enter and Space move and press (text is typed into the focused field);
every control reached shows a visible focus outline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.portal.helpers import ADVISER, PASSWORD, build_mail, seal
from tests.support.browser import PHRASE, chromium, live_gateway
from tests.support.smtp import RecordingSink

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MAX_TABS = 40

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
  return {
    text: (e.innerText || e.value || '').trim(), label: label.trim(), tag: e.tagName,
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
  };
}"""


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[str, Any, RecordingSink]]:
    with live_gateway(tmp_path, with_filter=False) as gateway:
        yield gateway.portal, gateway.runtime, gateway.sink


def tab_to(page: Any, name: str, *, field: bool = False) -> None:
    """Press Tab until the control named `name` (its text, or its label) has the focus."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        seen.append(focused["label"] if field else focused["text"])
        if (focused["label"] if field else focused["text"]) == name:
            assert focused["outline"], f"no visible focus on {name!r}"
            return
    raise AssertionError(f"Tab never reached {name!r}; focus went through {seen}")


def type_into(page: Any, label: str, text: str) -> None:
    tab_to(page, label, field=True)
    page.keyboard.type(text)


def test_the_customer_journey_by_keyboard_alone(
    portal: tuple[str, Any, RecordingSink], tmp_path: Path
) -> None:
    from webcrypt import envelope
    from webcrypt.sealing.securehtm import render_secure_htm

    base, runtime, sink = portal
    raw = build_mail(
        subject="Ihr Vertrag",
        body="Guten Tag,\nanbei der Vertrag.\n",
        attachments=[("Vertrag.pdf", "application/pdf", b"%PDF-1.4 Vertrag")],
    )
    sealed = seal(runtime, raw)
    secure_htm = tmp_path / "secure.htm"
    secure_htm.write_text(render_secure_htm(sealed.armored, envelope.parse(sealed.armored).header))

    with chromium() as browser:
        page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
        page.goto(secure_htm.as_uri())
        tab_to(page, "Open message")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/open")

        tab_to(page, "First login with a PIN")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="First login").wait_for()
        type_into(page, "PIN", str(sealed.pin))
        tab_to(page, "Continue")
        page.keyboard.press("Enter")

        page.get_by_role("heading", name="Choose your password").wait_for()
        type_into(page, "New password", PASSWORD)
        type_into(page, "Repeat the new password", PASSWORD)
        type_into(page, "Answer", "Bello")
        type_into(page, "Security phrase", PHRASE)
        tab_to(page, "Save and continue")
        page.keyboard.press("Space")

        page.get_by_role("heading", name="Ihr Vertrag").wait_for()
        tab_to(page, "Vertrag.pdf")
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert Path(download.value.path()).read_bytes() == b"%PDF-1.4 Vertrag"

        tab_to(page, "Reply")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Reply securely").wait_for()
        tab_to(page, "Message", field=True)
        page.keyboard.press("Control+Home")
        page.keyboard.type("Danke, erledigt.\n")
        tab_to(page, "Send")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Your message has been sent").wait_for()

        tab_to(page, "Log out")
        page.keyboard.press("Enter")
        page.get_by_text("You have been logged out.").wait_for()

    (reply,) = sink.wait_for(1, timeout=30)
    assert reply.rcpt_tos == [ADVISER]
    assert "Danke, erledigt." in reply.parsed().get_body(("plain",)).get_content()
