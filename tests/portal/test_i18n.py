"""English and German: browser language by default, compiled catalogs in step with the sources."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

import portal
from portal.translations.refresh import extract

TRANSLATIONS = Path(portal.__file__).parent / "translations"


def test_browser_language_is_the_default(client: FlaskClient) -> None:
    german = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    text = german.get_data(as_text=True)
    assert '<html lang="de">' in text
    assert ">E-Mail</label>" in text and ">Weiter</button>" in text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert ">Email</label>" in english.get_data(as_text=True)


def test_admin_default_language_when_the_browser_says_nothing(client: FlaskClient, runtime) -> None:
    from tests.portal.conftest import update_settings

    update_settings(runtime, default_language="de")
    assert "Anmelden" in client.get("/login").get_data(as_text=True)


def test_visitor_can_switch_language(client: FlaskClient) -> None:
    client.get("/language/de?next=/login")
    assert "Passwort vergessen?" in client.get("/login").get_data(as_text=True)


def _plain(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_po_file() -> None:
    po_path = TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        source = {_plain(m.id): _plain(m.string) for m in read_po(handle) if m.id}
    with po_path.with_suffix(".mo").open("rb") as handle:
        compiled = {_plain(m.id): _plain(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run portal/translations/refresh.py"


def test_every_portal_string_is_translated(tmp_path: Path) -> None:
    wanted = {m.id for m in extract(tmp_path / "messages.pot") if m.id}
    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        translated = {
            m.id
            for m in read_po(handle)
            if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
        }
    assert sorted(map(str, wanted - translated)) == [], "run portal/translations/refresh.py"
