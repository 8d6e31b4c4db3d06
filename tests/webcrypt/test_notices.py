"""Every notice the gateway writes has the same header set, built by one function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

import webcrypt
from keystore.models import LedgerEntry
from keystore.settings import Settings
from webcrypt import notices
from webcrypt.mail.compose import Outgoing
from webcrypt.sealing.pins import (
    ADMIN_RESET,
    FIRST_CONTACT,
    NoDestination,
    PinDestination,
    describe_pin_channel,
    pin_destination,
)

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
ADVISER = "berater@bank.example"
CUSTOMER = "kunde@example.com"
SETTINGS = Settings(product_name="Sichere Post", contact_de="Fragen: 0800 1", footer_en="Bank")
PORTAL = "https://portal.bank.example/webcrypt"

PIN = "1234 5678"
ADVISER_ALWAYS = Settings(first_contact_pin="adviser", reset_pin="adviser")
FOR_THE_CUSTOMER = {"recipient": CUSTOMER, "sent_for": ADVISER, "portal_url": PORTAL}
"""The arguments of a notice about the customer's access, sent for their adviser."""
PIN_RESET = FOR_THE_CUSTOMER | {"to": ADVISER, "to_recipient": False, "pin": PIN}


def sealed(sent: datetime, expires: datetime) -> LedgerEntry:
    """A ledger entry of a message the adviser sealed for the customer."""
    return LedgerEntry(
        message_id="m1@bank.example",
        recipient_id=7,
        sender=ADVISER,
        created_at=sent,
        expires_at=expires,
        key_version=1,
    )


KINDS: dict[str, tuple[Callable[..., Outgoing], dict[str, Any]]] = {
    "pin": (
        notices.pin_mail,
        {"adviser": ADVISER, "recipient": CUSTOMER, "pin": PIN, "portal_url": PORTAL},
    ),
    "pin_reset": (notices.pin_reset_mail, PIN_RESET),
    "pin_reset_recipient": (
        notices.pin_reset_mail,
        PIN_RESET | {"to": CUSTOMER, "to_recipient": True},
    ),
    "pin_recipient": (
        notices.pin_recipient_mail,
        FOR_THE_CUSTOMER | {"pin": PIN},
    ),
    "access_reset": (
        notices.access_reset_mail,
        FOR_THE_CUSTOMER | {"pin_from": ADVISER, "pin_role": "adviser"},
    ),
    "deactivated": (
        notices.deactivated_notice,
        {"adviser": ADVISER, "recipient": CUSTOMER, "subject": "Ihr Vertrag", "others": True},
    ),
    "mailbox_full": (
        notices.mailbox_full_notice,
        {
            "adviser": ADVISER,
            "recipient": CUSTOMER,
            "subject": "Ihr Vertrag",
            "used": 99 * 1024 * 1024,
            "limit": 100 * 1024 * 1024,
        },
    ),
    "unread": (
        notices.unread_mail,
        {
            "entry": sealed(NOW - timedelta(days=10), NOW + timedelta(days=20)),
            "recipient": CUSTOMER,
        },
    ),
    "receipt": (
        notices.receipt_mail,
        {
            "entry": sealed(NOW - timedelta(days=1), NOW + timedelta(days=29)),
            "recipient": CUSTOMER,
            "opened": NOW,
        },
    ),
    "expiry": (
        notices.expiry_mail,
        {
            "entry": sealed(NOW - timedelta(days=27), NOW + timedelta(days=3)),
            "recipient": CUSTOMER,
            "portal_url": PORTAL,
        },
    ),
    "inactivity": (
        notices.inactivity_mail,
        FOR_THE_CUSTOMER
        | {"last_used": NOW - timedelta(days=365), "deletion": NOW + timedelta(days=30)},
    ),
    "withdraw": (
        notices.withdraw_offer_mail,
        {
            "adviser": ADVISER,
            "recipients": [CUSTOMER],
            "message_id": "m1@bank.example",
            "sent": NOW,
            "expires": NOW + timedelta(days=30),
            "link": "https://portal.bank.example/webcrypt/withdraw/abc",
        },
    ),
    "reset_link": (
        notices.reset_link_mail,
        {
            "recipient": CUSTOMER,
            "sent_for": ADVISER,
            "link": "https://portal.bank.example/webcrypt/forgot/link/abc",
        },
    ),
    "reset_notice": (
        notices.reset_notice_mail,
        {"recipient": CUSTOMER, "event": "wrong_answer", "left": 2, "sent_for": ADVISER},
    ),
}
"""Each notice's builder with the arguments that are its own."""

TO_ADVISERS_IN_THE_DEFAULT_LANGUAGE = {"unread", "receipt", "withdraw"}
"""The notices whose builders take no language: advisers read the default one."""


def build(name: str, lang: str | None = "de", **changed: Any) -> Outgoing:
    """Build the notice `name` in `lang`, with `changed` in place of its usual arguments."""
    builder, arguments = KINDS[name]
    language = {} if name in TO_ADVISERS_IN_THE_DEFAULT_LANGUAGE else {"lang": lang}
    return builder(**(arguments | changed), **language, settings=SETTINGS, now=NOW)


def parsed(mail: Outgoing) -> EmailMessage:
    message = message_from_bytes(mail.build(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_every_notice_template_has_a_builder() -> None:
    folder = Path(webcrypt.__file__).parent / "templates" / "mail"
    names = {path.name.split(".")[0] for path in folder.glob("*.txt")}
    assert {name for name in names if not name.startswith("_")} == set(KINDS)


def test_every_notice_kind_has_the_same_header_set() -> None:
    header_sets = {name: frozenset(parsed(build(name)).keys()) for name in KINDS}
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


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_notice_is_an_automatic_mail_from_our_domain(name: str) -> None:
    mail = build(name)
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


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_language_header_names_the_language_written(name: str) -> None:
    """Notices to advisers are in the default language, the others in the one asked for."""
    message = parsed(build(name))
    expected = "en" if name in TO_ADVISERS_IN_THE_DEFAULT_LANGUAGE else "de"
    assert message["Content-Language"] == expected


def test_an_unknown_language_falls_back_to_the_default() -> None:
    message = parsed(build("pin", "fr"))
    assert message["Content-Language"] == SETTINGS.default_language


def test_the_sending_address_is_the_adviser_else_the_first_internal_domain() -> None:
    assert notices.sending_address(ADVISER, ["zweig.example"]) == ADVISER
    assert notices.sending_address(None, ["zweig.example", "bank.example"]) == (
        "postmaster@zweig.example"
    )
    assert notices.sending_address(" ", []) == "postmaster@localhost"


def test_an_unknown_reset_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reset event"):
        build("reset_notice", event="nope")


@pytest.mark.parametrize("situation", [FIRST_CONTACT, ADMIN_RESET])
@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("adviser", PinDestination(ADVISER, "adviser")),
        ("recipient", PinDestination(CUSTOMER, "recipient")),
        ("helpdesk", PinDestination("helpdesk@bank.example", "helpdesk")),
    ],
)
def test_each_situation_follows_its_own_setting(
    situation: str, channel: str, expected: PinDestination
) -> None:
    other = "adviser" if channel != "adviser" else "recipient"
    names = {FIRST_CONTACT: "first_contact_pin", ADMIN_RESET: "reset_pin"}
    changes = {name: channel if s == situation else other for s, name in names.items()}
    settings = Settings(pin_helpdesk="helpdesk@bank.example", **changes)
    found = pin_destination(situation, settings=settings, recipient=CUSTOMER, adviser=ADVISER)
    assert found == expected
    assert found.to_recipient is (channel == "recipient")


def test_the_defaults_are_the_adviser_first_and_the_customer_after_a_reset() -> None:
    settings = Settings()
    first = pin_destination(FIRST_CONTACT, settings=settings, recipient=CUSTOMER, adviser=ADVISER)
    reset = pin_destination(ADMIN_RESET, settings=settings, recipient=CUSTOMER, adviser=ADVISER)
    assert (first.role, reset.role) == ("adviser", "recipient")
    assert "In force: the sending adviser" in describe_pin_channel(FIRST_CONTACT, settings)
    assert "the customer, by mail" in describe_pin_channel(ADMIN_RESET, settings)


def test_the_customer_by_mail_at_first_contact_is_warned_about() -> None:
    text = describe_pin_channel(FIRST_CONTACT, Settings(first_contact_pin="recipient"))
    assert text.startswith("In force: the customer, by mail.") and "Warning:" in text
    assert "Warning" not in describe_pin_channel(ADMIN_RESET, Settings(reset_pin="recipient"))


@pytest.mark.parametrize("situation", [FIRST_CONTACT, ADMIN_RESET])
@pytest.mark.parametrize("adviser", [None, "", "  ", "no-address"])
def test_no_adviser_on_record_means_no_destination(situation: str, adviser: str | None) -> None:
    with pytest.raises(NoDestination, match="No adviser is on record"):
        pin_destination(situation, settings=ADVISER_ALWAYS, recipient=CUSTOMER, adviser=adviser)


def test_an_unknown_situation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown situation"):
        pin_destination("later", settings=Settings(), recipient=CUSTOMER, adviser=ADVISER)


def test_an_sms_pin_needs_a_gateway_and_a_number_else_the_adviser_gets_it() -> None:
    settings = Settings(first_contact_pin="sms", reset_pin="sms")
    for situation in (FIRST_CONTACT, ADMIN_RESET):
        sent = pin_destination(
            situation,
            settings=settings,
            recipient=CUSTOMER,
            adviser=ADVISER,
            phone="+491761234567",
            sms=True,
        )
        assert sent == PinDestination("+491761234567", "sms") and sent.by_sms
        for phone, sms in ((None, True), ("+491761234567", False)):
            found = pin_destination(
                situation,
                settings=settings,
                recipient=CUSTOMER,
                adviser=ADVISER,
                phone=phone,
                sms=sms,
            )
            assert found == PinDestination(ADVISER, "adviser")
    assert "as no SMS gateway is configured" in describe_pin_channel(FIRST_CONTACT, settings)
    assert "an SMS to the customer" in describe_pin_channel(FIRST_CONTACT, settings, sms=True)
