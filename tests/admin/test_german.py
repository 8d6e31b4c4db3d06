"""What the admin area says after an action, in German for a German admin; nothing left in English.

Every message shown after a form (flash) and every text of an admin template goes through
Flask-Babel: the static checks below find new untranslated ones, the requests show the
German translations in place.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from keystore.errors import InvalidValue
from keystore.settings import VALIDATORS
from tests.admin.conftest import account_id, post_form, text_of, without_adviser
from tests.admin.test_reset import portal_relaying_to
from tests.portal.conftest import update_settings
from tests.portal.helpers import FakeClock, build_mail, csrf_token, seal
from tests.support.components import free_port
from webcrypt.runtime import Runtime

ADMIN_PACKAGE = Path(__file__).parents[2] / "portal" / "admin"
KEYSTORE_PACKAGE = Path(__file__).parents[2] / "keystore"
CATALOGUE = Path(__file__).parents[2] / "portal/translations/de/LC_MESSAGES/messages.po"
#: Text in admin templates that is the same in every language.
UNTRANSLATED = {"English", "Deutsch", "secure.htm", "MB"}


@pytest.fixture
def german(admin_client: FlaskClient) -> FlaskClient:
    """The logged-in admin's browser, asking for German."""
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    return admin_client


@pytest.fixture
def customer(runtime: Runtime) -> int:
    """The id of a recipient account created by an adviser's first secure message."""
    seal(runtime, build_mail())
    return account_id(runtime)


def after(client: FlaskClient, response: object) -> str:
    """Return the text of the page a form's redirect leads to."""
    return text_of(client.get(response.headers["Location"]))  # type: ignore[attr-defined]


def test_every_flash_in_the_admin_area_is_translated() -> None:
    untranslated = []
    for path in sorted(ADMIN_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "flash":
                text = node.args[0]
                if isinstance(text, ast.JoinedStr | ast.Constant):
                    untranslated.append(f"{path.name}:{node.lineno}")
    assert untranslated == []


def test_every_admin_template_text_is_translated() -> None:
    untranslated = []
    for path in sorted((ADMIN_PACKAGE / "templates" / "admin").glob("*.html")):
        template = path.read_text()
        source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", template, flags=re.S)
        source = re.sub(r"<(style|script)\b.*?</\1>", "", source, flags=re.S)
        for text in re.findall(r">([^<]*)<", source):
            if re.search(r"[A-Za-z]{2,}", text) and text.strip() not in UNTRANSLATED:
                untranslated.append(f"{path.name}: {text.strip()!r}")
        # Words given to a macro or an attribute as they are, not through _().
        for words in re.findall(r'\b(?:hint|label|title)="([^"{]*[A-Za-z]{2,}[^"]*)"', template):
            untranslated.append(f"{path.name}: {words!r}")
    assert untranslated == []


def german_catalogue() -> dict[str, str]:
    with CATALOGUE.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale="de") if isinstance(m.id, str)}


def validation_templates() -> dict[str, str]:
    """Return every message template the keystore's validators give, with where it is."""
    found = {}
    for path in sorted(KEYSTORE_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            # `InvalidValue(str(exc))` passes on another module's message as it is.
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "InvalidValue"
                and isinstance(node.args[0], ast.Constant)
            ):
                found[node.args[0].value] = f"{path.name}:{node.lineno}"
    return found


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)[sd]", text))


def test_every_validation_message_of_the_keystore_is_translated() -> None:
    """The settings and branding pages show these messages to a German admin in German."""
    templates = validation_templates()
    assert "must be a colour like #1f4e79" in templates
    assert "must be between %(low)d and %(high)d" in templates
    german = german_catalogue()
    untranslated = [
        f"{where}: {template!r}"
        for template, where in templates.items()
        if not german.get(template) or placeholders(german[template]) != placeholders(template)
    ]
    assert untranslated == [], "run portal/translations/refresh.py and translate"


def test_the_validators_raise_only_messages_that_can_be_translated() -> None:
    """A plain ValueError would reach a German admin in English."""
    plain = []
    for name in ("values.py", "settings.py"):
        path = KEYSTORE_PACKAGE / name
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", "") == "ValueError"
            ):
                plain.append(f"{name}:{node.lineno}")
    assert plain == []
    german = german_catalogue()
    refused = 0
    for name, validator in VALIDATORS.items():
        for value in (object(), "x" * 3000, "-1", "not valid !", b"GIF89a", b"\x89PNG" * 60000):
            try:
                validator(value)
            except InvalidValue as exc:
                refused += 1
                text = german.get(exc.template, "")
                assert text % exc.params if exc.params else text, (name, exc.template)
    assert refused > len(VALIDATORS)


def test_the_phone_page_speaks_german(german: FlaskClient, customer: int) -> None:
    url = f"/admin/users/{customer}/phone"
    page = text_of(german.get(url))
    assert "Mobilnummer:" in page and "Internationale Form" in page and "Speichern" in page
    refused = post_form(german, url, {"phone": "0176 1234567"})
    assert refused.status_code == 400
    assert "keine internationale Telefonnummer" in text_of(refused)
    saved = after(german, post_form(german, url, {"phone": "+49 176 123 4567"}))
    assert "Mobilnummer für PINs von" in saved and "+491761234567" in saved
    removed = after(german, post_form(german, url, {"phone": ""}))
    assert "Mobilnummer für PINs von" in removed and ": entfernt." in removed


def test_a_reset_is_reported_in_german(
    german: FlaskClient, runtime: Runtime, customer: int
) -> None:
    update_settings(runtime, reset_pin="adviser")
    page = after(german, post_form(german, f"/admin/users/{customer}/reset", {"confirm": "yes"}))
    assert "Passwort zurücksetzen: erledigt für" in page
    assert "Neue PIN per E-Mail an den Berater (" in page
    assert "hat per E-Mail (ohne die PIN) erfahren" in page
    assert "mailed" not in page and "adviser" not in page


def test_a_reset_without_an_adviser_is_refused_in_german(
    german: FlaskClient, runtime: Runtime
) -> None:
    recipient_id = without_adviser(runtime)
    page = after(
        german, post_form(german, f"/admin/users/{recipient_id}/reset", {"confirm": "yes"})
    )
    assert "Für dieses Konto ist kein Berater hinterlegt" in page


def test_a_failed_reset_is_reported_in_german(tmp_path: Path, clock: FakeClock) -> None:
    closed = f"smtp://127.0.0.1:{free_port()}"
    with portal_relaying_to(tmp_path, clock, closed) as portal:
        portal.admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
        url = f"/admin/users/{portal.recipient_id}/reset"
        page = after(portal.admin, post_form(portal.admin, url, {"confirm": "yes"}))
        assert "Die neue PIN konnte nicht gesendet werden, daher wurde nichts geändert" in page


def test_key_actions_and_the_delivery_method_are_reported_in_german(
    german: FlaskClient, customer: int
) -> None:
    rotated = after(german, post_form(german, f"/admin/users/{customer}/rotate"))
    assert "Neue Schlüsselversion 2." in rotated
    page = german.get(f"/admin/users/{customer}")
    chosen = german.post(
        f"/admin/users/{customer}/delivery",
        data={"csrf_token": csrf_token(page.data), "method": ""},
    )
    assert "Zustellart von" in after(german, chosen) and "nach den Regeln" in after(german, chosen)
