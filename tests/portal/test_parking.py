"""The message being opened survives the language switch and the forgotten-password flow:
parked server-side (ciphertext) for minutes, keyed to the browser session, used once."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from keystore.models import ParkedEnvelope
from tests.portal.helpers import CUSTOMER, build_mail, csrf_token, seal
from tests.portal.resetflow import NEW_PASSWORD, answer, ask, link, use


def parked_rows(runtime) -> int:
    with runtime.keystore.session() as session:
        return len(session.query(ParkedEnvelope).all())


def test_the_language_switch_keeps_the_message(client: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail(subject="Ihr Vertrag"))
    login = client.post("/open", data={"envelope": sealed.armored})
    html = login.get_data(as_text=True)
    assert 'form="login-form"' in html and 'formaction="/language/de"' in html
    switched = client.post(
        "/language/de",
        data={"csrf_token": csrf_token(login.data), "envelope": sealed.armored, "email": CUSTOMER},
    )
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/resume")
    assert parked_rows(runtime) == 1
    with runtime.keystore.session() as session:
        stored = session.query(ParkedEnvelope).one()
        assert stored.envelope == sealed.armored.strip() and len(stored.token_hash) == 64
    back = client.get("/resume")
    page = back.get_data(as_text=True)
    assert back.status_code == 200 and '<html lang="de">' in page
    assert sealed.armored.strip() in page  # the login page carries the message again
    assert parked_rows(runtime) == 0
    again = client.get("/resume")
    assert again.status_code == 302  # used once: nothing is left to take


def test_a_parked_message_expires(client: FlaskClient, runtime, clock) -> None:
    sealed = seal(runtime, build_mail())
    login = client.post("/open", data={"envelope": sealed.armored})
    client.post(
        "/language/de", data={"csrf_token": csrf_token(login.data), "envelope": sealed.armored}
    )
    clock.advance(minutes=16)
    assert client.get("/resume").status_code == 302
    assert parked_rows(runtime) == 0


def test_another_browser_cannot_take_the_parked_message(
    app: Flask, client: FlaskClient, runtime
) -> None:
    sealed = seal(runtime, build_mail())
    login = client.post("/open", data={"envelope": sealed.armored})
    client.post(
        "/language/de", data={"csrf_token": csrf_token(login.data), "envelope": sealed.armored}
    )
    stranger = app.test_client()
    assert stranger.get("/resume").status_code == 302
    assert parked_rows(runtime) == 1


def test_the_forgotten_password_flow_brings_the_customer_back_to_the_message(
    app: Flask, client: FlaskClient, runtime, account: str, tmp_path: Path
) -> None:
    sealed = seal(runtime, build_mail(subject="Ihr Kontoauszug"))
    login = client.post("/open", data={"envelope": sealed.armored})
    html = login.get_data(as_text=True)
    assert 'formaction="/forgot/park"' in html
    started = client.post(
        "/forgot/park", data={"csrf_token": csrf_token(login.data), "envelope": sealed.armored}
    )
    assert started.headers["Location"].endswith("/forgot")
    ask(client)
    question = use(client, link(app, tmp_path))
    done = answer(client, question, "Bello", NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/resume")
    message = client.get("/resume")
    assert message.status_code == 200
    assert re.search(r"<h1[^>]*>Ihr Kontoauszug</h1>", message.get_data(as_text=True))
    assert parked_rows(runtime) == 0
