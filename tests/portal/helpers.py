"""Helpers for the portal tests: sealing messages, reading forms out of pages."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from tests.support.runtime import Sealed, seal_for

ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.com"
PASSWORD = "correct horse battery staple"


class FakeClock:
    """A clock tests can move forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def build_mail(
    *,
    subject: str = "Ihr Vertrag WebCrypt",
    body: str = "Guten Tag,\nanbei der Vertrag.\n",
    html_body: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    sender: str = ADVISER,
    to: str = CUSTOMER,
    cc: str = "",
) -> bytes:
    """Build an RFC 5322 message as an adviser's mail client would."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Berta Berater <{sender}>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0100"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@bank.example>"
    message.set_content(body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    for filename, content_type, data in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def contract_mail(contract: bytes) -> bytes:
    """The adviser's mail of a contract: a short text and `contract` as a PDF attachment."""
    return build_mail(
        body="Guten Tag,\nanbei Ihr Vertrag.\n",
        attachments=[("Vertrag Übersicht.pdf", "application/pdf", contract)],
    )


def seal(
    runtime: Any,
    raw: bytes,
    *,
    to: str = CUSTOMER,
    sender: str = ADVISER,
    days: int = 30,
    record: bool = True,
) -> Sealed:
    """Seal `raw` for `to` as the filter does: account, current key, envelope, ledger."""
    return seal_for(runtime, raw, to=to, sender=sender, days=days, record=record)


def csrf_token(page: str | bytes) -> str:
    """Return the first CSRF token in a page."""
    text = page.decode() if isinstance(page, bytes) else page
    match = (
        re.search(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"', text)
        or re.search(r'name="csrf_token" value="([^"]+)"', text)
        or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', text)
    )
    assert match, "no CSRF token in page"
    return html.unescape(match.group(1)).strip()


def submit(client: Any, path: str, page: str | bytes | None = None, **fields: Any) -> Any:
    """Post `fields` to `path` with the CSRF token of `page` (by default of the start page, as
    a browser that never showed the form); return the response."""
    token = csrf_token(page if page is not None else client.get("/").data)
    return client.post(path, data={"csrf_token": token, **fields})


def profile_form(client: Any, form: str, **fields: str) -> dict[str, str]:
    """The data of the profile page's form `form` ("password", "question", ...): a fresh CSRF
    token, the current password (unless `fields` give one) and `fields`, named as the page
    names them."""
    page = client.get("/profile")
    data = {"csrf_token": csrf_token(page.data), "current_password": PASSWORD, **fields}
    return {f"{form}-{name}": value for name, value in data.items()}


def change_password(client: Any, new: str) -> Any:
    """Change the logged-in recipient's password from PASSWORD to `new`; return the response."""
    data = profile_form(client, "password", new_password=new, confirm=new)
    return client.post("/profile/password", data=data)


def hidden(page: str | bytes, name: str) -> str:
    """Return the value of the first hidden field `name` in a page."""
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', text) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', text
    )
    assert match, f"no field {name} in page"
    return html.unescape(match.group(1)).strip()
