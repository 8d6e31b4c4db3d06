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
