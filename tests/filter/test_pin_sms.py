"""The first-contact PIN by SMS, through the real filter and a real webhook on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.filter.conftest import ADVISER
from tests.filter.helpers import PIN_PATTERN, carriers, open_carrier, pin_mails, rfc5322
from tests.support.smsgateway import SmsGatewayDouble

CUSTOMER = "c@cust.example"


@pytest.fixture
def sms() -> Iterator[SmsGatewayDouble]:
    double = SmsGatewayDouble().start()
    yield double
    double.stop()


def offer(phone: str = "+49 176 1234567") -> bytes:
    return rfc5322(
        f"From: {ADVISER}\nTo: {CUSTOMER}\nSubject: WebCrypt offer\n"
        f"X-WebCrypt-Phone: {phone}\nMessage-ID: <m1@bank.example>\n\nThe offer.\n"
    )


def test_the_pin_goes_by_sms_and_the_number_never_leaves(make_harness, sms):
    harness = make_harness(WEBCRYPT_SMS_GATEWAY=f"webhook:{sms.url}", WEBCRYPT_SMS_TOKEN="t0k")
    harness.settings(first_contact_pin="sms")
    harness.send(offer(), to=[CUSTOMER])
    (carrier,) = carriers(harness.sink.wait_for(1))
    assert pin_mails(harness.sink.messages) == []
    (message,) = sms.received
    assert (message.to, message.authorization) == ("+491761234567", "Bearer t0k")
    pin = PIN_PATTERN.search(message.text).group(1)
    with harness.runtime.keystore.session() as session:
        accounts = harness.runtime.keystore.recipients(session)
        assert accounts.authenticate_pin(CUSTOMER, pin).ok
        assert accounts.get(CUSTOMER).phone == "+491761234567"
        (event,) = harness.runtime.keystore.audit(session).search(action="recipient.phone")
        assert (event.actor, event.target, event.detail) == (
            ADVISER,
            CUSTOMER,
            "mobile number: +...567 (X-WebCrypt-Phone)",
        )
    assert b"1761234567" not in carrier.data
    assert b"X-WebCrypt-Phone" not in open_carrier(harness.runtime, carrier)


def test_without_a_number_or_when_the_gateway_refuses_the_adviser_gets_the_pin(make_harness, sms):
    harness = make_harness(WEBCRYPT_SMS_GATEWAY=f"webhook:{sms.url}")
    harness.settings(first_contact_pin="sms")
    harness.send(offer(phone="call me"), to=[CUSTOMER])
    (pin,) = pin_mails(harness.sink.wait_for(2))
    assert pin.rcpt_tos == [ADVISER]
    sms.refuse(503)
    harness.sink.clear()
    harness.send(offer(), to=["d@cust.example"])
    (pin,) = pin_mails(harness.sink.wait_for(2))
    assert pin.rcpt_tos == [ADVISER]
    assert sms.received == []
