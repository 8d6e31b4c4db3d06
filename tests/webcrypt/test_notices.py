"""Every notice the gateway writes has the same header set, built by one function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

import webcrypt
from keystore.settings import Settings
from webcrypt import notices
from webcrypt.mail.compose import Outgoing
from webcrypt.sealing.pins import (
    ADMIN_RESET,
    FIRST_CONTACT,
    NoDestination,
    PinDestination,
    pin_destination,
)

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.com"
SETTINGS = Settings(product_name="Sichere Post", contact_de="Fragen: 0800 1", footer_en="Bank")
PORTAL = "https://portal.bank.example/webcrypt"

BUILDERS: dict[str, Callable[[str | None], Outgoing]] = {
    "pin": lambda lang: notices.pin_mail(
        adviser=ADVISER,
        recipient=CUSTOMER,
        pin="1234 5678",
        portal_url=PORTAL,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "pin_reset": lambda lang: notices.pin_reset_mail(
        to=ADVISER,
        to_recipient=False,
        recipient=CUSTOMER,
        sent_for=ADVISER,
        pin="1234 5678",
        portal_url=PORTAL,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "pin_reset_recipient": lambda lang: notices.pin_reset_mail(
        to=CUSTOMER,
        to_recipient=True,
        recipient=CUSTOMER,
        sent_for=ADVISER,
        pin="1234 5678",
        portal_url=PORTAL,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "deactivated": lambda lang: notices.deactivated_notice(
        adviser=ADVISER,
        recipient=CUSTOMER,
        subject="Ihr Vertrag",
        others=True,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "unread": lambda lang: notices.unread_mail(
        adviser=ADVISER,
        recipient=CUSTOMER,
        message_id="m1@bank.example",
        sent=NOW - timedelta(days=10),
        expires=NOW + timedelta(days=20),
        settings=SETTINGS,
        now=NOW,
    ),
    "receipt": lambda lang: notices.receipt_mail(
        adviser=ADVISER,
        recipient=CUSTOMER,
        message_id="m1@bank.example",
        sent=NOW - timedelta(days=1),
        opened=NOW,
        settings=SETTINGS,
        now=NOW,
    ),
    "expiry": lambda lang: notices.expiry_mail(
        recipient=CUSTOMER,
        adviser=ADVISER,
        sent=NOW - timedelta(days=27),
        expires=NOW + timedelta(days=3),
        opened=False,
        portal_url=PORTAL,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "inactivity": lambda lang: notices.inactivity_mail(
        recipient=CUSTOMER,
        sent_for=ADVISER,
        last_used=NOW - timedelta(days=365),
        deletion=NOW + timedelta(days=30),
        portal_url=PORTAL,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "withdraw": lambda lang: notices.withdraw_offer_mail(
        adviser=ADVISER,
        recipients=[CUSTOMER],
        message_id="m1@bank.example",
        sent=NOW,
        expires=NOW + timedelta(days=30),
        link="https://portal.bank.example/webcrypt/withdraw/abc",
        settings=SETTINGS,
        now=NOW,
    ),
    "reset_link": lambda lang: notices.reset_link_mail(
        recipient=CUSTOMER,
        sent_for=ADVISER,
        link="https://portal.bank.example/webcrypt/forgot/link/abc",
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
    "reset_notice": lambda lang: notices.reset_notice_mail(
        recipient=CUSTOMER,
        event="wrong_answer",
        left=2,
        sent_for=ADVISER,
        settings=SETTINGS,
        lang=lang,
        now=NOW,
    ),
}


def parsed(mail: Outgoing) -> EmailMessage:
    message = message_from_bytes(mail.build(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_every_notice_template_has_a_builder() -> None:
    folder = Path(webcrypt.__file__).parent / "templates" / "mail"
    names = {path.name.split(".")[0] for path in folder.glob("*.txt")}
    assert {name for name in names if not name.startswith("_")} == set(BUILDERS)


def test_every_notice_kind_has_the_same_header_set() -> None:
    header_sets = {name: frozenset(parsed(build("de")).keys()) for name, build in BUILDERS.items()}
    assert set(header_sets.values()) == {
        frozenset(
            {
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "Auto-Submitted",
                "Content-Language",
                "X-WebCrypt-Notice",
                "MIME-Version",
                "Content-Type",
                "Content-Transfer-Encoding",
            }
        )
    }, header_sets


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_notice_is_an_automatic_mail_from_our_domain(name: str) -> None:
    mail = BUILDERS[name]("de")
    message = parsed(mail)
    assert mail.mail_from == "" and mail.crlf_only and mail.kind == name
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-WebCrypt-Notice"] == name
    assert message["From"].addresses[0].addr_spec == "postmaster@bank.example"
    assert message["From"].addresses[0].display_name == "Sichere Post"
    assert message["To"].addresses[0].addr_spec == mail.rcpt_tos[0]
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Message-ID"].endswith("@bank.example>")
    assert b"\n" not in mail.build().replace(b"\r\n", b"")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_language_header_names_the_language_written(name: str) -> None:
    """Notices to advisers are in the default language, the others in the one asked for."""
    message = parsed(BUILDERS[name]("de"))
    expected = "en" if name in ("unread", "receipt", "withdraw") else "de"
    assert message["Content-Language"] == expected


def test_an_unknown_language_falls_back_to_the_default() -> None:
    message = parsed(BUILDERS["pin"]("fr"))
    assert message["Content-Language"] == SETTINGS.default_language


def test_the_sending_address_is_the_adviser_else_the_first_internal_domain() -> None:
    assert notices.sending_address(ADVISER, ["zweig.example"]) == ADVISER
    assert notices.sending_address(None, ["zweig.example", "bank.example"]) == (
        "postmaster@zweig.example"
    )
    assert notices.sending_address(" ", []) == "postmaster@localhost"


def test_an_unknown_reset_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reset event"):
        notices.reset_notice_mail(
            recipient=CUSTOMER,
            event="nope",
            left=0,
            sent_for=ADVISER,
            settings=SETTINGS,
            lang="en",
            now=NOW,
        )


@pytest.mark.parametrize("delivery", ["adviser", "recipient"])
def test_a_first_contact_pin_always_goes_to_the_adviser(delivery: str) -> None:
    settings = Settings(pin_delivery=delivery)
    found = pin_destination(FIRST_CONTACT, settings=settings, recipient=CUSTOMER, adviser=ADVISER)
    assert found == PinDestination(ADVISER, "adviser") and not found.to_recipient


def test_an_admin_reset_pin_follows_the_pin_delivery_setting() -> None:
    to_adviser = Settings(pin_delivery="adviser")
    to_recipient = Settings(pin_delivery="recipient")
    assert pin_destination(
        ADMIN_RESET, settings=to_adviser, recipient=CUSTOMER, adviser=ADVISER
    ) == PinDestination(ADVISER, "adviser")
    found = pin_destination(ADMIN_RESET, settings=to_recipient, recipient=CUSTOMER, adviser=None)
    assert found == PinDestination(CUSTOMER, "recipient") and found.to_recipient


@pytest.mark.parametrize("situation", [FIRST_CONTACT, ADMIN_RESET])
@pytest.mark.parametrize("adviser", [None, "", "  ", "no-address"])
def test_no_adviser_on_record_means_no_destination(situation: str, adviser: str | None) -> None:
    with pytest.raises(NoDestination, match="No adviser is on record"):
        pin_destination(situation, settings=Settings(), recipient=CUSTOMER, adviser=adviser)


def test_an_unknown_situation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown situation"):
        pin_destination("later", settings=Settings(), recipient=CUSTOMER, adviser=ADVISER)
