"""The PIN notice gives the adviser what to tell the customer against forged pages."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from keystore.settings import Settings
from webcrypt.notices import pin_mail


def text_of(data: bytes) -> str:
    mail = message_from_bytes(data, policy=policy.default)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "they should enter their password only on https://portal.bank.example/ and"),
        ("de", "Das Passwort gehört nur auf https://portal.bank.example/ und nirgendwo"),
    ],
)
def test_the_pin_notice_names_the_portal_host_and_the_phrase(lang: str, expected: str) -> None:
    notice = pin_mail(
        adviser="adviser@bank.example",
        recipient="kunde@example.com",
        pin="1234 5678",
        portal_url="https://portal.bank.example/webcrypt",
        settings=Settings(),
        lang=lang,
        now=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
    )
    text = text_of(notice.data)
    assert expected in text
    assert "security phrase" in text or "Sicherheitsspruch" in text
    assert "1234 5678" in text


def test_unsure_of_the_language_the_pin_notice_is_in_both_with_a_clear_subject() -> None:
    notice = pin_mail(
        adviser="adviser@bank.example",
        recipient="kunde@example.com",
        pin="1234 5678",
        portal_url="https://portal.bank.example/webcrypt",
        settings=Settings(default_language="de"),
        lang=None,
        now=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
    )
    mail = message_from_bytes(notice.build(), policy=policy.default)
    assert str(mail["Subject"]) == (
        "Bitte handeln: Einmal-PIN telefonisch an kunde@example.com geben / "
        "Action needed: phone the one-time PIN to kunde@example.com"
    )
    assert mail["Content-Language"] == "de, en"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())
    assert text.splitlines()[0].startswith("Zu tun: Rufen Sie kunde@example.com an")
    assert "To do: call kunde@example.com" in text
    assert text.count("1234 5678") == 2
    assert "NUR TELEFONISCH" in text and "BY PHONE ONLY - never by e-mail" in text


ADVISER_NOTICES = ("pin", "pin_reset", "deactivated", "unread", "receipt", "withdraw")


@pytest.mark.parametrize("name", ADVISER_NOTICES)
@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_notice_to_the_adviser_starts_with_what_to_do(name: str, lang: str) -> None:
    from tests.webcrypt.test_notices import KINDS, NOW, TO_ADVISERS_IN_THE_DEFAULT_LANGUAGE

    builder, arguments = KINDS[name]
    language = {} if name in TO_ADVISERS_IN_THE_DEFAULT_LANGUAGE else {"lang": lang}
    settings = Settings(default_language=lang)
    built = builder(**arguments, **language, settings=settings, now=NOW)
    mail = message_from_bytes(built.build(), policy=policy.default)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    first = str(body.get_content()).splitlines()[0]
    assert first.startswith("To do:" if lang == "en" else "Zu tun:"), first
