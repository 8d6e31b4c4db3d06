"""axe-core finds no WCAG 2.1 A/AA violation on the inbox's pages, in English and German,
and none scrolls sideways on a 360 px phone or at 200 % zoom."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.portal.conftest import login, update_settings
from tests.portal.helpers import build_mail, csrf_token
from tests.portal.mailboxes import store_message

axe = pytest.importorskip("tests.support.axe")

pytestmark = pytest.mark.browser


def _shot(name: str, response: Any) -> tuple[str, bytes, str]:
    assert response.status_code < 500, (name, response.status_code)
    assert response.content_type.startswith("text/html"), name
    return name, response.data, response.headers.get("Content-Security-Policy", "")


def inbox_tour(app: Flask, runtime: Any, lang: str) -> Iterator[tuple[str, bytes, str]]:
    """Yield every page of the inbox in `lang`."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    first = store_message(
        runtime,
        build_mail(
            subject="Ihr Vertrag mit einem sehr langen Betreff, der auf dem Telefon umbrechen muss",
            html_body="<p>Guten Tag</p>",
            attachments=[("Vertrag.pdf", "application/pdf", os.urandom(1_200_000))],
        ),
    )
    yield _shot("link without login", client.get(f"/inbox/{first.entry_id}"))
    yield _shot("help", client.get("/inbox/help"))
    for number in range(50):
        store_message(runtime, build_mail(subject=f"Nachricht {number}"))
    with runtime.keystore.session() as session:
        used = runtime.keystore.mailbox(session).usage(first.sealed.recipient_id)
    # The mailbox 95 % full, so that the page shows its warning.
    update_settings(runtime, max_message_size=1024 * 1024, mailbox_quota=int(used / 0.95))
    login(client)
    full = client.get("/inbox")
    assert b'<p class="notice" role="status">' in full.data
    yield _shot("inbox almost full, first page", full)
    yield _shot("inbox second page", client.get("/inbox?page=2"))
    message = client.get(f"/inbox/{first.entry_id}")
    yield _shot("message from the inbox", message)
    reply = client.post(
        "/reply",
        data={"csrf_token": csrf_token(message.data), "entry": first.entry_id, "mode": "reply"},
    )
    yield _shot("reply from the inbox", reply)
    yield _shot("delete", client.get(f"/inbox/{first.entry_id}/delete"))
    client.post(f"/inbox/{first.entry_id}/delete", data={"csrf_token": csrf_token(message.data)})
    yield _shot("gone", client.get(f"/inbox/{first.entry_id}"))
    yield _shot("inbox after deleting", client.get("/inbox"))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_inbox_pages_pass_axe(app: Flask, runtime, account: str, lang: str) -> None:
    shots = list(inbox_tour(app, runtime, lang))
    for name, html, _csp in shots:
        assert f'<html lang="{lang}"'.encode() in html, name
    with axe.auditor(axe.client_fetch(app.test_client())) as check:
        findings = [check.audit(name, html, csp=csp) for name, html, csp in shots]
    assert not axe.report(findings), axe.report(findings)


def test_profile_with_the_delivery_choice_passes_axe(tmp_path: Path) -> None:
    from portal import create_app
    from tests.portal.conftest import TEST_CONFIG, first_login, guarded_runtime
    from tests.portal.helpers import FakeClock, seal

    with guarded_runtime(tmp_path, FakeClock(), WEBCRYPT_PORTAL_DELIVERY_CHOICE="1") as built:
        app = create_app(built, dict(TEST_CONFIG))
        client = app.test_client()
        first_login(client, str(seal(built, build_mail()).pin))
        page = client.get("/profile")
        assert b"Receiving secure messages" in page.data
        with axe.auditor(axe.client_fetch(client)) as check:
            finding = check.audit("profile", page.data, csp=page.headers["Content-Security-Policy"])
    assert not axe.report([finding]), axe.report([finding])
