import pytest
from sqlalchemy import text

from keystore.db import Keystore
from keystore.errors import SettingsError
from keystore.settings import Settings
from tests.support.keystores import upgraded_from

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_defaults(keystore: Keystore) -> None:
    with keystore.session() as session:
        settings = keystore.settings(session).get()
    assert settings == Settings()
    assert settings.trigger_word == "WebCrypt"
    assert settings.max_message_size == 10485760
    assert (settings.message_expiry_days, settings.expiry_notice_days) == (30, 3)
    assert (settings.inactivity_days, settings.inactivity_notice_days) == (395, 30)
    assert (settings.lockout_threshold, settings.lockout_minutes) == (5, 15)
    assert settings.internal_domains == () and settings.logo_png == b""
    assert (settings.first_contact_pin, settings.reset_pin) == ("adviser", "recipient")
    assert (settings.pin_helpdesk, settings.default_language) == ("", "en")
    assert settings.brand_color == "#1f4e79"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("xn--strae-oqa.example", "straße.example"),  # IDNA 2008: Python's idna codec refuses it
        ("XN--BNK-QLA.Example.", "bänk.example"),
        ("bänk.example", "bänk.example"),
    ],
)
def test_domains_are_stored_as_the_filter_compares_them(
    keystore: Keystore, written: str, stored: str
) -> None:
    with keystore.session() as session:
        updated = keystore.settings(session).update(
            {"internal_domains": [written]}, actor="admin@bank.example"
        )
    assert updated.internal_domains == (stored,)


def test_update_persists_and_audits(keystore: Keystore) -> None:
    with keystore.session() as session:
        updated = keystore.settings(session).update(
            {
                "trigger_word": "Secure",
                "internal_domains": "bank.example, BANK.de",
                "attachment_domains": ["xn--bcher-kva.example"],
                "max_message_size": "20971520",
                "read_receipts": "on",
                "expiry_notice_mode": "unread",
                "brand_color": "#AABBCC",
                "footer_de": "  Mit freundlichen Grüßen ",
            },
            actor="admin@bank.example",
        )
        assert updated.internal_domains == ("bank.example", "bank.de")
    with keystore.session() as session:
        settings = keystore.settings(session).get()
        events = keystore.audit(session).search(action="settings.update")
    assert settings == updated
    assert settings.attachment_domains == ("bücher.example",)
    assert settings.max_message_size == 20971520 and settings.read_receipts is True
    assert settings.brand_color == "#aabbcc"
    assert settings.footer("de") == "Mit freundlichen Grüßen" and settings.footer("en") == ""
    assert len(events) == 1 and events[0].actor == "admin@bank.example"
    assert "trigger_word" in events[0].detail and "Secure" not in events[0].detail


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger_word": "two words"}, "trigger_word"),
        ({"trigger_word": ""}, "trigger_word"),
        ({"internal_domains": ["bank..example"]}, "internal_domains"),
        ({"internal_domains": 5}, "internal_domains"),
        ({"max_message_size": 0}, "max_message_size"),
        ({"max_message_size": "ten"}, "max_message_size"),
        ({"max_message_size": True}, "max_message_size"),
        ({"message_expiry_days": 0}, "message_expiry_days"),
        ({"expiry_notice_mode": "sometimes"}, "expiry_notice_mode"),
        ({"expiry_notice_days": 30}, "expiry_notice_days"),
        ({"inactivity_notice_days": 400}, "inactivity_notice_days"),
        ({"ledger_retention_days": 10}, "ledger_retention_days"),
        ({"lockout_threshold": 0}, "lockout_threshold"),
        ({"first_contact_pin": "fax"}, "first_contact_pin"),
        ({"reset_pin": "helpdesk"}, "pin_helpdesk"),
        ({"default_language": "fr"}, "default_language"),
        ({"read_receipts": "maybe"}, "read_receipts"),
        ({"product_name": ""}, "product_name"),
        ({"brand_color": "blue"}, "brand_color"),
        ({"logo_png": b"GIF89a"}, "logo_png"),
        ({"logo_png": PNG}, "logo_mime"),
        ({"logo_png": PNG, "logo_mime": "image/jpeg"}, "logo_mime"),
        ({"footer_en": "x" * 2001}, "footer_en"),
        ({"no_such_setting": 1}, "no_such_setting"),
    ],
)
def test_validation_names_the_field(keystore: Keystore, changes: dict, field: str) -> None:
    with keystore.session() as session:
        service = keystore.settings(session)
        with pytest.raises(SettingsError) as info:
            service.update(changes, actor="admin")
        assert set(info.value.errors) == {field}
        assert info.value.errors[field]
        assert service.get() == Settings()


def test_every_invalid_field_is_reported_and_nothing_is_stored(keystore: Keystore) -> None:
    with keystore.session() as session:
        service = keystore.settings(session)
        with pytest.raises(SettingsError) as info:
            service.update(
                {"trigger_word": "ok", "lockout_minutes": -1, "brand_color": "red"}, actor="a"
            )
        assert set(info.value.errors) == {"lockout_minutes", "brand_color"}
        assert service.get().trigger_word == "WebCrypt"


def test_a_refusal_gives_english_text_and_a_template_to_translate(keystore: Keystore) -> None:
    with keystore.session() as session:
        service = keystore.settings(session)
        with pytest.raises(SettingsError) as info:
            service.update({"lockout_minutes": 0, "expiry_notice_days": 30}, actor="a")
        with pytest.raises(SettingsError) as crossed:
            service.update({"expiry_notice_days": 30}, actor="a")
    assert info.value.errors == {"lockout_minutes": "must be between 1 and 10080"}
    problem = info.value.problems["lockout_minutes"]
    assert (problem.template, problem.params) == (
        "must be between %(low)d and %(high)d",
        {"low": 1, "high": 10080},
    )
    assert str(info.value) == "invalid settings (lockout_minutes: must be between 1 and 10080)"
    assert crossed.value.errors == {"expiry_notice_days": "must be less than message_expiry_days"}
    assert crossed.value.problems["expiry_notice_days"].params == {"other": "message_expiry_days"}


def test_logo(keystore: Keystore) -> None:
    with keystore.session() as session:
        keystore.settings(session).update({"logo_png": PNG, "logo_mime": "image/png"}, actor="a")
    with keystore.session() as session:
        settings = keystore.settings(session).get()
        assert settings.logo_png == PNG
        assert settings.logo_mime == "image/png"
        assert "logo_png" not in repr(settings)
        keystore.settings(session).update({"logo_png": b"", "logo_mime": ""}, actor="admin")
        assert keystore.settings(session).get().logo_png == b""


@pytest.mark.parametrize("stored", ["adviser", "recipient"])
def test_the_old_pin_delivery_becomes_the_reset_pin(sqlite_keystore_url: str, stored: str) -> None:
    old_setting = (
        "INSERT INTO settings (name, value, updated_at, updated_by) VALUES "
        "('pin_delivery', :value, '2026-01-01 00:00:00.000000', 'admin')"
    )
    with upgraded_from(sqlite_keystore_url, "0007", old_setting, {"value": f'"{stored}"'}) as ks:
        with ks.session() as session:
            settings = ks.settings(session).get()
        assert (settings.first_contact_pin, settings.reset_pin) == ("adviser", stored)
        with ks.engine.connect() as connection:
            names = set(connection.scalars(text("SELECT name FROM settings")))
        assert names == {"reset_pin"}
