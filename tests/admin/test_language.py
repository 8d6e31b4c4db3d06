"""The admin area speaks the admin's language: the one stored in the account, else the browser's."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.admin.conftest import ADMIN, Account, log_in
from tests.portal.helpers import FakeClock, csrf_token
from webcrypt.runtime import Runtime


def test_the_admin_area_follows_the_browser_language(admin_client: FlaskClient) -> None:
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    german = admin_client.get("/admin/settings").get_data(as_text=True)
    assert '<html lang="de">' in german
    assert "Einstellungen speichern" in german and "E-Mail-Regeln" in german
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    english = admin_client.get("/admin/settings").get_data(as_text=True)
    assert '<html lang="en">' in english and "Save settings" in english


def test_the_footer_switch_before_the_login_overrides_the_browser(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/admin/login").get_data(as_text=True)
    assert 'href="/language/de?next=/admin/login"' in page
    switched = client.get("/language/de?next=/admin/login")
    assert switched.headers["Location"].endswith("/admin/login")
    german = client.get("/admin/login").get_data(as_text=True)
    assert '<html lang="de">' in german and "Anmeldung zur Verwaltung" in german


def test_the_chosen_language_is_stored_and_wins_over_the_browser(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = admin_client.get("/admin/users")
    assert 'name="lang" value="de"' in page.get_data(as_text=True)
    switched = admin_client.post(
        "/admin/language",
        data={"csrf_token": csrf_token(page.data), "lang": "de", "next": "/admin/users"},
    )
    assert switched.headers["Location"].endswith("/admin/users")
    with runtime.keystore.session() as session:
        assert runtime.keystore.admins(session).get(ADMIN).language == "de"
    # The browser's own switch (session cookie) and Accept-Language yield to the account.
    admin_client.get("/language/en?next=/admin/users")
    german = admin_client.get("/admin/users").get_data(as_text=True)
    assert '<html lang="de">' in german and "Konten der Empfänger" in german


def test_a_stored_language_applies_from_the_login_on(
    client: FlaskClient, admin_account: Account, runtime: Runtime, clock: FakeClock
) -> None:
    with runtime.keystore.session() as session:
        service = runtime.keystore.admins(session)
        service.set_language(service.get(ADMIN), "de")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Continue" in client.get("/admin/login").get_data(as_text=True)
    log_in(client, admin_account, clock)
    page = client.get("/admin/").get_data(as_text=True)
    assert '<html lang="de">' in page and "Übersicht" in page


def test_an_unknown_language_is_refused(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/users")
    refused = admin_client.post(
        "/admin/language", data={"csrf_token": csrf_token(page.data), "lang": "fr"}
    )
    assert refused.status_code == 404


def test_the_admin_login_is_bilingual(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Anmeldung zur Verwaltung" in page and "Weiter" in page
