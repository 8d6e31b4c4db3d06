"""The settings page: every setting, validated, per-field errors, in force at once here."""

from __future__ import annotations

import html as html_module
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.admin.settings_page import all_fields
from tests.admin.conftest import ADMIN, audit_actions, text_of
from tests.admin.helpers import branding_form
from tests.portal.helpers import csrf_token
from webcrypt.runtime import Runtime


def form_values(page: bytes) -> dict[str, str]:
    """Read the current values of the settings form as a browser would submit them."""
    html = page.decode()
    values: dict[str, str] = {}
    for field in all_fields():
        if field.kind == "flag":
            if re.search(rf'name="{field.name}" value="true" checked', html):
                values[field.name] = "true"
        elif field.kind == "choice":
            block = re.search(rf'<select id="{field.name}".*?</select>', html, re.S)
            assert block
            chosen = re.search(r'<option value="([^"]*)" selected', block.group(0))
            assert chosen
            values[field.name] = chosen.group(1)
        elif field.kind in ("list", "area"):
            match = re.search(rf'<textarea[^>]*name="{field.name}"[^>]*>([^<]*)</textarea>', html)
            assert match, field.name
            values[field.name] = match.group(1)
        else:
            match = re.search(rf'name="{field.name}" value="([^"]*)"', html)
            assert match, field.name
            values[field.name] = match.group(1)
    return values


def submit(client: FlaskClient, **changes: Any) -> Any:
    page = client.get("/admin/settings")
    data = {**form_values(page.data), **changes, "csrf_token": csrf_token(page.data)}
    return client.post("/admin/settings", data={k: v for k, v in data.items() if v is not None})


def test_every_setting_is_on_the_page(admin_client: FlaskClient) -> None:
    from keystore.settings import FIELDS

    branding = {
        "product_name",
        "brand_color",
        "logo_png",
        "logo_mime",
        "footer_en",
        "footer_de",
        "contact_en",
        "contact_de",
    }
    shown = {field.name for field in all_fields()}
    assert shown == set(FIELDS) - branding
    html = admin_client.get("/admin/settings").get_data(as_text=True)
    for field in all_fields():
        assert f'id="{field.name}"' in html, field.name
        # A checkbox sits inside its label; every other input is named by a label's `for`.
        if field.kind != "flag":
            assert f'for="{field.name}"' in html, field.name


def test_saving_applies_at_once(admin_client: FlaskClient, runtime: Runtime) -> None:
    response = submit(
        admin_client,
        trigger_word="Vertraulich",
        internal_domains="bank.example, filiale.example",
        max_message_size="20971520",
        reset_pin="helpdesk",
        pin_helpdesk="Helpdesk@Bank.example",
        read_receipts="true",
        admin_idle_minutes="20",
    )
    assert response.status_code == 302, text_of(response)
    current = runtime.settings()
    assert current.trigger_word == "Vertraulich"
    assert current.internal_domains == ("bank.example", "filiale.example")
    assert current.max_message_size == 20971520
    assert (current.reset_pin, current.pin_helpdesk) == ("helpdesk", "helpdesk@bank.example")
    assert current.read_receipts is True
    assert current.admin_idle_minutes == 20
    assert runtime.is_internal("x@filiale.example")
    events = [(a, actor) for a, actor, _ in audit_actions(runtime)]
    assert ("settings.update", ADMIN) in events
    # An unticked box switches the option off again.
    submit(admin_client, read_receipts=None)
    assert runtime.settings().read_receipts is False


def test_saving_refreshes_a_cached_copy(admin_client: FlaskClient, runtime: Runtime) -> None:
    runtime._settings_ttl = 3600  # as in production: cached
    runtime.settings()
    submit(admin_client, trigger_word="Geheim")
    assert runtime.settings().trigger_word == "Geheim"


def post_branding(client: FlaskClient, **changes: Any) -> Any:
    return client.post("/admin/branding", data=branding_form(client, **changes, save="1"))


def refused(response: Any, field: str, runtime: Runtime) -> str:
    """Return the error shown for `field`, after checking that it names the field's input
    and that nothing was stored."""
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error-text" id="{field}-error">([^<]*)</p>', html)
    assert error, f"no error shown for {field}"
    described = re.search(rf'id="{field}" name="{field}"[^>]*aria-describedby="([^"]*)"', html)
    assert described, f"{field} is not described by anything"
    assert f"{field}-error" in described.group(1).split()
    assert "settings.update" not in [a for a, _, _ in audit_actions(runtime)]
    assert runtime.settings().product_name == "WebCrypt"
    return html_module.unescape(error.group(1))


POST = {"settings": submit, "branding": post_branding}
"""How each page's form is posted with changed fields."""


@pytest.mark.parametrize(
    ("form", "field", "value", "message"),
    [
        ("settings", "trigger_word", "two words", "must be one word"),
        ("settings", "trigger_word", "", "must be one word"),
        ("settings", "max_message_size", "ten", "must be a whole number"),
        ("settings", "max_message_size", "10", "must be between"),
        ("settings", "message_expiry_days", "0", "must be between"),
        ("settings", "expiry_notice_days", "30", "less than “Messages expire after (days)”"),
        ("settings", "ledger_retention_days", "5", "at least “Messages expire after (days)”"),
        ("settings", "internal_domains", "bank..example", "is not a domain name"),
        ("settings", "attachment_domains", "-bad-.example", "is not a domain name"),
        ("settings", "first_contact_pin", "carrier-pigeon", "must be one of"),
        ("settings", "pin_helpdesk", "not an address", "must be one mail address"),
        ("settings", "default_language", "fr", "must be one of"),
        ("settings", "expiry_notice_mode", "sometimes", "must be one of"),
        ("settings", "session_idle_minutes", "-1", "must be between"),
        ("settings", "admin_idle_minutes", "100000", "must be between"),
        ("settings", "lockout_threshold", "0", "must be between"),
        ("branding", "brand_color", "red", "must be a colour like #1f4e79"),
        ("branding", "brand_color", "#12345", "must be a colour like #1f4e79"),
        ("branding", "brand_color", "#1234567", "must be a colour like #1f4e79"),
        ("branding", "product_name", "", "must be 1 to 64 characters long"),
        ("branding", "product_name", "x" * 65, "must be 1 to 64 characters long"),
        ("branding", "footer_en", "x" * 2001, "must not be longer than 2000 characters"),
    ],
)
def test_validation_errors_are_shown_per_field(
    admin_client: FlaskClient, runtime: Runtime, form: str, field: str, value: str, message: str
) -> None:
    """On the settings and the branding page alike."""
    response = POST[form](admin_client, **{field: value})
    assert message in refused(response, field, runtime)
    assert "Nothing was saved" in text_of(response)


@pytest.mark.parametrize(
    ("form", "field", "value", "english", "german"),
    [
        ("settings", "trigger_word", "two words", "must be one word", "muss ein Wort aus"),
        ("settings", "max_message_size", "ten", "must be a whole number", "muss eine ganze Zahl"),
        (
            "settings",
            "message_expiry_days",
            "0",
            "must be between 1 and 3650",
            "muss zwischen 1 und 3650 liegen",
        ),
        (
            "settings",
            "expiry_notice_days",
            "30",
            "must be less than “Messages expire after (days)”",
            "muss kleiner sein als „Nachrichten laufen ab nach (Tagen)“",
        ),
        (
            "settings",
            "internal_domains",
            "bank..example",
            "'bank..example' is not a domain name",
            "'bank..example' ist kein Domainname",
        ),
        (
            "settings",
            "pin_helpdesk",
            "not an address",
            "must be one mail address such as helpdesk@bank.example",
            "muss eine E-Mail-Adresse sein, etwa helpdesk@bank.example",
        ),
        (
            "settings",
            "default_language",
            "fr",
            "must be one of: en, de",
            "muss einer dieser Werte sein: en, de",
        ),
        (
            "branding",
            "brand_color",
            "red",
            "must be a colour like #1f4e79",
            "muss eine Farbe wie #1f4e79 sein",
        ),
        (
            "branding",
            "product_name",
            "",
            "must be 1 to 64 characters long",
            "muss 1 bis 64 Zeichen lang sein",
        ),
        (
            "branding",
            "footer_de",
            "x" * 2001,
            "must not be longer than 2000 characters",
            "darf höchstens 2000 Zeichen lang sein",
        ),
    ],
)
def test_a_german_admin_is_told_why_in_german(
    admin_client: FlaskClient,
    runtime: Runtime,
    form: str,
    field: str,
    value: str,
    english: str,
    german: str,
) -> None:
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    response = POST[form](admin_client, **{field: value})
    shown = refused(response, field, runtime)
    assert german in shown
    assert english not in shown
    assert "Nichts wurde gespeichert" in text_of(response)
    admin_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"
    assert english in refused(POST[form](admin_client, **{field: value}), field, runtime)


def test_nothing_is_saved_when_one_field_is_wrong(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    response = submit(admin_client, trigger_word="Neu", lockout_threshold="zero")
    assert response.status_code == 400
    assert runtime.settings().trigger_word == "WebCrypt"


def in_force(client: FlaskClient) -> str:
    html = client.get("/admin/settings").get_data(as_text=True)
    match = re.search(r'<p class="hint" id="internal_domains-note">([^<]*)</p>', html)
    assert match, "the settings page does not show the internal domains in force"
    return " ".join(html_module.unescape(match.group(1)).split())


def test_the_page_shows_the_internal_domains_in_force_and_their_source(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    configured = ", ".join(runtime.config.filter.internal_domains)
    assert in_force(admin_client) == (
        f"In force: {configured}, from the configuration file (filter.internal_domains), "
        "as this setting is empty."
    )
    submit(admin_client, internal_domains="zweig.example, filiale.example")
    assert runtime.internal_domains().domains == ("zweig.example", "filiale.example")
    assert in_force(admin_client) == (
        "In force: zweig.example, filiale.example, from this setting. The configuration "
        f"file's filter.internal_domains ({configured}) is not used while this setting "
        "lists a domain."
    )
    submit(admin_client, internal_domains="")
    assert in_force(admin_client).startswith(f"In force: {configured}, from the configuration")


def test_the_page_shows_who_gets_each_pin_and_warns_about_the_mailbox(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    page = text_of(admin_client.get("/admin/settings"))
    assert "In force: the sending adviser, who passes it on by phone." in page
    assert "In force: the customer, by mail." in page
    assert "Warning" not in page
    response = submit(admin_client, reset_pin="helpdesk", pin_helpdesk="")
    assert response.status_code == 400
    assert "must be set while “PIN after an admin reset” goes to the helpdesk" in text_of(response)
    submit(admin_client, first_contact_pin="recipient")
    page = text_of(admin_client.get("/admin/settings"))
    assert "Warning: the PIN then travels in the same mailbox as the message" in page
