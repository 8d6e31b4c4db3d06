"""Walking through the forgotten-password flow in tests: ask, read the mailed link, use it."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from portal.accountmail import MAILER_KEY
from tests.portal.helpers import CUSTOMER, csrf_token

NEW_PASSWORD = "a completely new secret 7"


def mails(app: Flask, tmp_path: Path, kind: str | None = None) -> list[EmailMessage]:
    """Return the mails relayed so far (after the background sender finished)."""
    mailer = app.extensions.get(MAILER_KEY)
    if mailer is not None:
        mailer.drain()
    found = []
    for path in sorted((tmp_path / "outbox").glob("*.eml")):  # named by time of sending
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        if kind is None or mail["X-WebCrypt-Notice"] == kind:
            found.append(mail)
    return found


def body(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def ask(client: FlaskClient, address: str = CUSTOMER, environ: dict[str, str] | None = None) -> Any:
    """Ask for a reset link for `address`."""
    page = client.get("/forgot", environ_base=environ or {})
    data = {"csrf_token": csrf_token(page.data), "email": address}
    return client.post("/forgot", data=data, environ_base=environ or {})


def link(app: Flask, tmp_path: Path) -> str:
    """Return the path of the newest reset link mailed."""
    paths = [
        re.search(r"http://127\.0\.0\.1:8080(/forgot/link/\S+)", body(mail))
        for mail in mails(app, tmp_path, "reset_link")
    ]
    assert paths and paths[-1] is not None, "no reset link mailed"
    return paths[-1].group(1)


def use(client: FlaskClient, path: str, environ: dict[str, str] | None = None) -> Any:
    """Open the link's page and press its button."""
    page = client.get(path, environ_base=environ or {})
    assert page.status_code == 200
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    data = {"csrf_token": csrf_token(page.data), "token": token.group(1)}
    return client.post("/forgot/link", data=data, environ_base=environ or {})


def answer(
    client: FlaskClient,
    page: Any,
    text: str,
    password: str = NEW_PASSWORD,
    environ: dict[str, str] | None = None,
) -> Any:
    data = {
        "csrf_token": csrf_token(page.data),
        "answer": text,
        "new_password": password,
        "confirm": password,
    }
    return client.post("/forgot/answer", data=data, environ_base=environ or {})


def reset_stage(app: Flask, tmp_path: Path, environ: dict[str, str] | None = None) -> Any:
    """Ask for a link with a fresh client, use it; return (client, question page)."""
    client = app.test_client()
    ask(client, environ=environ)
    page = use(client, link(app, tmp_path), environ)
    assert page.status_code == 200, page.data[:2000]
    return client, page
