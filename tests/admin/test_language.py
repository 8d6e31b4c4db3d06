"""The admin area speaks the admin's language: the browser's, or the one chosen in the footer."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_admin_area_follows_the_browser_language(admin_client: FlaskClient) -> None:
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    german = admin_client.get("/admin/settings").get_data(as_text=True)
    assert '<html lang="de">' in german
    assert "Einstellungen speichern" in german and "E-Mail-Regeln" in german
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    english = admin_client.get("/admin/settings").get_data(as_text=True)
    assert '<html lang="en">' in english and "Save settings" in english


def test_the_footer_switch_overrides_the_browser(admin_client: FlaskClient) -> None:
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert 'href="/language/de?next=/admin/users"' in page
    switched = admin_client.get("/language/de?next=/admin/users")
    assert switched.headers["Location"].endswith("/admin/users")
    german = admin_client.get("/admin/users").get_data(as_text=True)
    assert '<html lang="de">' in german and "Konten der Empfänger" in german


def test_the_admin_login_is_bilingual(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Anmeldung zur Verwaltung" in page and "Weiter" in page
