"""Every input has a visible label; pages declare their language and work without script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from tests.portal.helpers import build_mail, csrf_token, seal
from tests.portal.resetflow import ask, link, reset_stage


class Inputs(HTMLParser):
    """Collect form controls and the ids that labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "label" and attributes.get("for"):
            self.labelled.add(str(attributes["for"]))
        if tag in ("input", "select", "textarea") and attributes.get("type") not in (
            "hidden",
            "submit",
        ):
            self.controls.append(attributes)


def check(page: str) -> None:
    parser = Inputs()
    parser.feed(page)
    assert parser.controls, "no form on the page"
    for control in parser.controls:
        assert control.get("id") in parser.labelled, f"input without a label: {control}"
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    assert re.search(r'<html lang="(en|de)">', page)
    assert 'name="viewport"' in page


@pytest.mark.parametrize("path", ["/", "/login", "/login/pin", "/forgot"])
def test_public_forms_are_labelled(client: FlaskClient, path: str) -> None:
    check(client.get(path).get_data(as_text=True))


def test_logged_in_forms_are_labelled(logged_in: FlaskClient, runtime) -> None:
    check(logged_in.get("/profile").get_data(as_text=True))
    check(logged_in.get("/write").get_data(as_text=True))
    sealed = seal(runtime, build_mail())
    token = csrf_token(logged_in.get("/").data)
    page = logged_in.post("/reply", data={"csrf_token": token, "envelope": sealed.armored})
    check(page.get_data(as_text=True))


def test_setup_form_is_labelled(client: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    page = client.get("/login/pin")
    setup = client.post(
        "/login/pin",
        data={"csrf_token": csrf_token(page.data), "email": sealed.recipient, "pin": sealed.pin},
    )
    check(setup.get_data(as_text=True))


def test_forgot_answer_form_is_labelled(app, account: str, tmp_path) -> None:
    _, question = reset_stage(app, tmp_path)
    check(question.get_data(as_text=True))


def test_reset_pages_declare_language_and_heading(app, account: str, tmp_path) -> None:
    client = app.test_client()
    sent = ask(client).get_data(as_text=True)
    button = client.get(link(app, tmp_path)).get_data(as_text=True)
    for page in (sent, button):
        assert re.search(r'<html lang="(en|de)">', page)
        assert "<h1" in page


def test_errors_are_announced(client: FlaskClient, account: str) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page.data), "email": account, "password": "wrong one 1"},
    )
    assert 'role="alert"' in response.get_data(as_text=True)
