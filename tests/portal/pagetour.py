"""Every page of the portal a customer can reach, rendered by the test client in one language.

The tour walks the customer's way (upload, login, first login, setup, read, reply, profile,
forgotten password, error pages) and keeps each page with its Content-Security-Policy, for
the axe-core and layout checks in Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.portal.conftest import PASSWORD
from tests.portal.helpers import CUSTOMER, build_mail, csrf_token, seal
from tests.portal.resetflow import ask, link


@dataclass(frozen=True)
class Shot:
    """One rendered page."""

    name: str
    html: bytes
    csp: str


def shot(name: str, response: Any) -> Shot:
    assert response.status_code < 500, (name, response.status_code, response.data[:500])
    assert response.content_type.startswith("text/html"), (name, response.content_type)
    return Shot(name, response.data, response.headers.get("Content-Security-Policy", ""))


def language_client(app: Flask, lang: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def portal_tour(app: Flask, runtime: Any, tmp_path: Path, lang: str) -> Iterator[Shot]:
    """Yield every customer page in `lang` (the account is created on the way)."""
    client = language_client(app, lang)
    mail = build_mail(
        subject="Ihr Vertrag",
        attachments=[("Vertrag.pdf", "application/pdf", b"%PDF-1.4 test")],
        html_body="<p>Guten Tag</p>",
    )
    sealed = seal(runtime, mail)
    envelope = sealed.armored
    yield shot("start", client.get("/"))
    yield shot(
        "upload without file",
        client.post("/upload", data={"csrf_token": csrf_token(client.get("/").data)}),
    )
    yield shot("login address", client.get("/login"))
    yield shot("login pin", client.get("/login/pin"))
    token = csrf_token(client.get("/").data)
    yield shot("open from secure.htm", client.post("/open", data={"envelope": envelope}))
    wrong = client.post(
        "/login/pin",
        data={"csrf_token": token, "email": CUSTOMER, "pin": "0000 0000", "envelope": envelope},
    )
    yield shot("login pin wrong", wrong)
    setup = client.post(
        "/login/pin",
        data={"csrf_token": token, "email": CUSTOMER, "pin": sealed.pin, "envelope": envelope},
    )
    yield shot("setup", setup)
    token = csrf_token(setup.data)
    invalid = client.post(
        "/setup",
        data={
            "csrf_token": token,
            "new_password": "short",
            "confirm": "other",
            "envelope": envelope,
        },
    )
    yield shot("setup with errors", invalid)
    message = client.post(
        "/setup",
        data={
            "csrf_token": token,
            "new_password": PASSWORD,
            "confirm": PASSWORD,
            "question": "first_pet",
            "answer": "Bello",
            "phrase": "Blue tractor",
            "envelope": envelope,
        },
    )
    yield shot("message", message)
    token = csrf_token(message.data)
    reply = client.post("/reply", data={"csrf_token": token, "envelope": envelope, "mode": "all"})
    yield shot("reply", reply)
    empty = client.post(
        "/reply/send", data={"csrf_token": token, "envelope": envelope, "mode": "reply", "body": ""}
    )
    yield shot("reply without text", empty)
    yield shot("write", client.get("/write"))
    yield shot("profile", client.get("/profile"))
    yield shot("not found", client.get("/no-such-page"))
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    login = client.post(
        "/login", data={"csrf_token": csrf_token(client.get("/login").data), "email": CUSTOMER}
    )
    yield shot("login password", login)
    token = csrf_token(login.data)
    failed = client.post(
        "/login", data={"csrf_token": token, "email": CUSTOMER, "password": "wrong password 1"}
    )
    yield shot("login failed", failed)
    yield shot("forgot", client.get("/forgot"))
    yield shot("forgot sent", ask(client))
    path = link(app, tmp_path)
    yield shot("forgot link", client.get(path))
    used = client.post(
        "/forgot/link",
        data={"csrf_token": csrf_token(client.get(path).data), "token": path.rsplit("/", 1)[1]},
    )
    yield shot("forgot answer", used)
    yield shot(
        "forgot invalid", client.post("/forgot/link", data={"csrf_token": token, "token": "x"})
    )
    yield shot("expired form", language_client(app, lang).post("/login", data={"email": CUSTOMER}))
    key = tmp_path / "session.key"
    if not key.exists():
        key.write_text("page-tour-session-key")
        key.chmod(0o600)
    yield shot("withdraw unknown", client.get("/withdraw/unknown-token"))
    yield shot("damaged file", client.post("/open", data={"envelope": "not an envelope"}))
