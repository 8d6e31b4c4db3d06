"""PINs by SMS: the webhook gateway against a real server on loopback, and phone numbers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.components import free_port
from tests.support.smsgateway import SmsGatewayDouble
from webcrypt.sealing.sms import (
    SmsError,
    WebhookGateway,
    normalize_phone,
    open_gateway,
    pin_sms_text,
)


@pytest.fixture
def gateway() -> Iterator[SmsGatewayDouble]:
    double = SmsGatewayDouble().start()
    yield double
    double.stop()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("+49 176 1234567", "+491761234567"),
        ("0049 (176) 123-45.67", "+491761234567"),
        ("+1/555/0100123", "+15550100123"),
    ],
)
def test_phone_numbers_are_written_in_e164(given: str, expected: str) -> None:
    assert normalize_phone(given) == expected


@pytest.mark.parametrize("given", ["", "0176 1234567", "+49 176 12a4567", "+0 123456789", "+1 2"])
def test_anything_else_is_not_a_phone_number(given: str) -> None:
    with pytest.raises(ValueError, match="international phone number"):
        normalize_phone(given)


def test_the_webhook_posts_number_and_text_with_the_token(gateway: SmsGatewayDouble) -> None:
    sender = open_gateway(f"webhook:{gateway.url}", token="s3cret", timeout=5)
    assert isinstance(sender, WebhookGateway)
    text = pin_sms_text("1234 5678", product_name="Bank", portal_url="https://p.example", lang="de")
    sender.send("+491761234567", text)
    (sms,) = gateway.received
    assert (sms.to, sms.authorization) == ("+491761234567", "Bearer s3cret")
    assert sms.text == "Bank: Ihre Einmal-PIN lautet 1234 5678. Anmeldung: https://p.example"
    assert len(sms.text) <= 160


def test_a_refusing_or_absent_gateway_raises_a_clear_error(gateway: SmsGatewayDouble) -> None:
    gateway.refuse(503)
    with pytest.raises(SmsError, match="answered 503"):
        WebhookGateway(gateway.url, timeout=5).send("+491761234567", "x")
    with pytest.raises(SmsError, match="cannot be reached"):
        WebhookGateway(f"http://127.0.0.1:{free_port()}/sms", timeout=2).send("+4917612", "x")
    assert gateway.received == []


def test_gateway_specs() -> None:
    assert open_gateway("") is None
    with pytest.raises(ValueError, match="unknown SMS gateway"):
        open_gateway("carrierpigeon:loft")
    with pytest.raises(ValueError, match="http"):
        open_gateway("webhook:ftp://x")
