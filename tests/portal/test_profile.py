"""The profile page and its forms."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.portal.conftest import login
from tests.portal.helpers import CUSTOMER, PASSWORD, csrf_token, profile_form


def test_profile_shows_account_dates(logged_in: FlaskClient) -> None:
    page = logged_in.get("/profile").get_data(as_text=True)
    for label in ("Account created", "Last login", "Account valid until", CUSTOMER):
        assert label in page
    assert "What was the name of your first pet?" in page


def test_profile_needs_login(client: FlaskClient) -> None:
    assert b'action="/login"' in client.get("/profile").data


def test_change_password_checks_the_current_one(logged_in: FlaskClient) -> None:
    new = "a fresh long secret 1"
    data = profile_form(
        logged_in, "password", current_password="not my password", new_password=new, confirm=new
    )
    assert logged_in.post("/profile/password", data=data).status_code == 401
    data["password-current_password"] = PASSWORD
    assert logged_in.post("/profile/password", data=data).status_code == 302
    logged_in.post("/logout", data={"csrf_token": csrf_token(logged_in.get("/").data)})
    assert login(logged_in, password="a fresh long secret 1").status_code == 302


def test_change_security_question(logged_in: FlaskClient, runtime) -> None:
    data = profile_form(logged_in, "question", question="first_car", answer="Golf")
    assert logged_in.post("/profile/question", data=data).status_code == 302
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).security_question == "first_car"


def test_security_phrase_changed_but_never_removed(logged_in: FlaskClient, runtime) -> None:
    def stored() -> str | None:
        with runtime.keystore.session() as session:
            service = runtime.keystore.recipients(session)
            return service.security_phrase(service.get(CUSTOMER))

    page = logged_in.get("/profile")
    token = csrf_token(page.data)
    data = {"phrase-csrf_token": token, "phrase-phrase": "Roter Leuchtturm"}
    assert logged_in.post("/profile/phrase", data=data).status_code == 302
    assert stored() == "Roter Leuchtturm"
    assert "Roter Leuchtturm" in logged_in.get("/profile").get_data(as_text=True)
    for bad in ("", "abc", "x" * 81, "zwei\nZeilen"):
        data["phrase-phrase"] = bad
        assert logged_in.post("/profile/phrase", data=data).status_code == 400
        assert stored() == "Roter Leuchtturm"  # nothing lost


def test_change_language_switches_the_portal(logged_in: FlaskClient, runtime) -> None:
    page = logged_in.get("/profile")
    data = {"language-csrf_token": csrf_token(page.data), "language-language": "de"}
    response = logged_in.post("/profile/language", data=data, follow_redirects=True)
    assert "Passwort ändern" in response.get_data(as_text=True)
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).language == "de"
