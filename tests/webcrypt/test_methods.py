"""The one function that decides how a recipient gets a sealed message."""

from __future__ import annotations

import pytest

from keystore.settings import Settings
from webcrypt.sealing.methods import delivery_method, requested

RULES = Settings(
    attachment_domains=("strip.example",),
    mailbox_domains=("quarantine.example", "strip.example"),
    both_domains=("phones.example",),
)


def decide(domain: str, **kw: object) -> tuple[str, str, bool]:
    kw.setdefault("default", "attachment")
    found = delivery_method(domain=domain, settings=RULES, **kw)  # type: ignore[arg-type]
    return found.method, found.rule, found.neutral


def test_default_domain_account_header_in_that_order() -> None:
    assert decide("cust.example") == ("attachment", "default", False)
    assert decide("cust.example", default="both") == ("both", "default", False)
    assert decide("quarantine.example") == ("mailbox", "domain", False)
    assert decide("phones.example") == ("both", "domain", False)
    assert decide("quarantine.example", account_choice="attachment") == (
        "attachment",
        "account",
        False,
    )
    assert decide("quarantine.example", account_choice="attachment", header="both") == (
        "both",
        "header",
        False,
    )


def test_neutral_attachment_is_the_form_not_the_method() -> None:
    assert decide("strip.example") == ("mailbox", "domain", True)
    found = delivery_method(
        domain="strip.example", settings=RULES, default="attachment", header="attachment"
    )
    assert found.attaches and not found.stores and found.neutral


def test_the_header_value() -> None:
    assert requested(" Mailbox ") == "mailbox"
    assert requested("") is None and requested("fax") is None


def test_a_bad_default_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown delivery method"):
        decide("cust.example", default="fax")
