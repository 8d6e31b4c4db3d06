"""WebCrypt behind a real Postfix, configured with exactly the blocks of docs/postfix.md.

Mail is submitted to Postfix as a mail client would; what counts is what
arrives at the final sink after the filter and the reinjection `smtpd`.
"""

from __future__ import annotations

import smtplib

import pytest

from tests.e2e.browser import Browser, first_login
from tests.e2e.gateway import (
    ADVISER,
    COLLEAGUE,
    PIN,
    Gateway,
    body_text,
    first_sealed,
    mail,
    plain_text,
    secure_htm,
    sort_mail,
)
from tests.support.postfix import PostfixInstance
from tests.support.smtp import RecordingSink
from webcrypt.sealing.securehtm import extract_envelope

pytestmark = pytest.mark.postfix

CUSTOMER = "customer@example.com"
SECRET = "The confidential figures: 4711."


def test_triggered_mail_is_sealed_for_external_and_plain_for_internal(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    gateway.filter()
    mta.submit(
        ADVISER,
        [CUSTOMER, COLLEAGUE],
        mail("Contract WebCrypt", f"{CUSTOMER}, {COLLEAGUE}", SECRET),
    )
    mta.wait_until_empty()
    arrived = sort_mail(sink.wait_for(3))
    assert len(sink.messages) == 3, gateway.logs()

    # The customer gets a carrier: no content in clear, the trigger gone from the subject.
    (carrier,) = arrived.carriers_to(CUSTOMER)
    assert SECRET.encode() not in carrier.data
    assert "WebCrypt" not in carrier.parsed()["Subject"]
    assert "Contract" in carrier.parsed()["Subject"]
    original = gateway.open_carrier(carrier)
    assert SECRET in plain_text(original)

    # The colleague reads the original in plaintext.
    (copy,) = arrived.plain
    assert copy.rcpt_tos == [COLLEAGUE]
    assert SECRET in body_text(copy)

    # The adviser gets the first-contact PIN, which names the customer and nothing secret.
    (pin_mail,) = arrived.pins
    text = body_text(pin_mail)
    assert CUSTOMER in text and SECRET not in text
    assert PIN.search(text)


def test_mail_without_trigger_passes_unchanged(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    gateway.filter()
    mta.submit(ADVISER, [CUSTOMER], mail("Our meeting", CUSTOMER, "See you at ten."))
    mta.wait_until_empty()
    (received,) = sink.wait_for(1)
    assert received.rcpt_tos == [CUSTOMER]
    assert "See you at ten." in body_text(received)
    assert gateway.accounts() == 0


def test_second_message_to_the_same_customer_sends_no_pin(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    gateway.filter()
    for number in range(2):
        mta.submit(ADVISER, [CUSTOMER], mail(f"WebCrypt statement {number}", CUSTOMER, SECRET))
        mta.wait_until_empty()
    arrived = sort_mail(sink.wait_for(3))
    assert len(arrived.carriers_to(CUSTOMER)) == 2
    assert len(arrived.pins) == 1
    assert gateway.accounts() == 1


def test_filter_down_postfix_defers_then_delivers_exactly_once(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    customers = [f"customer{n}@example.com" for n in range(3)]
    for customer in customers:
        mta.submit(ADVISER, [customer], mail("WebCrypt offer", customer, SECRET))
    mta.submit(ADVISER, [COLLEAGUE], mail("WebCrypt internal", COLLEAGUE, SECRET))
    deferred = mta.wait_deferred(4)
    assert len(deferred) == 4
    assert sink.messages == []

    gateway.filter()
    mta.wait_until_empty(timeout=60, flush=True)
    arrived = sort_mail(sink.wait_for(4 + 3))
    assert sorted(c.rcpt_tos[0] for c in arrived.carriers) == customers
    assert [p.rcpt_tos for p in arrived.plain] == [[COLLEAGUE]]
    assert len(arrived.pins) == 3
    assert len(sink.messages) == 7
    for carrier in arrived.carriers:
        assert SECRET.encode() not in carrier.data


def test_sealed_mail_opens_on_the_portal(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    gateway.filter()
    _portal, base = gateway.portal(WEBCRYPT_PORTAL_PUBLIC_URL="http://portal.test")
    carrier, pin = first_sealed(mta, sink, CUSTOMER, "Loan WebCrypt", SECRET)
    envelope = extract_envelope(secure_htm(carrier))
    page = first_login(Browser(), base, envelope, CUSTOMER, pin)
    assert page.status == 200, page.text[:2000]
    assert SECRET in page.text


def test_internationalized_address_through_postfix(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    gateway.filter()
    customer = "jörg@bücher.example"
    message = (
        f"From: Adviser <{ADVISER}>\r\nTo: {customer}\r\nSubject: Vertrag WebCrypt\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße, geheim.\r\n"
    ).encode()
    mta.submit(ADVISER, [customer], message, mail_options=["SMTPUTF8"])
    mta.wait_until_empty()
    arrived = sort_mail(sink.wait_for(2))
    (carrier,) = arrived.carriers_to(customer)
    assert "SMTPUTF8" in carrier.mail_options
    assert "Grüße, geheim." in plain_text(gateway.open_carrier(carrier))
    assert customer in body_text(arrived.pins[0])


def test_secure_suffix_passes_postfix_only_in_the_header(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    """Postfix refuses `addr@domain#secure` as an envelope address; in To: it triggers."""
    gateway.filter()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        mta.submit(ADVISER, [f"{CUSTOMER}#secure"], mail("Hello", f"{CUSTOMER}#secure"))
    assert refused.value.recipients[f"{CUSTOMER}#secure"][0] == 501
    mta.submit(ADVISER, [CUSTOMER], mail("Hello", f"<{CUSTOMER}#secure>", SECRET))
    mta.wait_until_empty()
    arrived = sort_mail(sink.wait_for(2))
    (carrier,) = arrived.carriers_to(CUSTOMER)
    assert "#secure" not in carrier.parsed()["To"]
    assert SECRET in plain_text(gateway.open_carrier(carrier))


def test_8bit_headers_pass_postfix_and_filter(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    # An 8-bit Subject (Latin-1, not UTF-8) is no reason for a 451: untriggered mail and
    # the colleague's copy arrive with the body as it was, the customer gets a carrier.
    gateway.filter()
    body = b"first\r\nsecond \xe4\r\n"
    head = f"From: {ADVISER}\r\nTo: {CUSTOMER}\r\n".encode() + b"Subject: Gr\xfc\xdfe\r\n"
    mta.submit(ADVISER, [CUSTOMER, COLLEAGUE], head + b"\r\n" + body)
    head_triggered = head.replace(b"Subject: ", b"Subject: WebCrypt ")
    mta.submit(ADVISER, [CUSTOMER, COLLEAGUE], head_triggered + b"\r\n" + body)
    mta.wait_until_empty()
    # Postfix hands the filter one transaction per recipient domain: the untriggered mail
    # arrives twice; then the colleague's copy, the carrier and the PIN mail.
    arrived = sort_mail(sink.wait_for(5))
    assert len(sink.messages) == 5, gateway.logs()
    plain = [r for r in sink.messages if r.data.endswith(b"\r\n\r\n" + body)]
    assert len(plain) == 3, gateway.logs()
    (carrier,) = arrived.carriers_to(CUSTOMER)
    assert "first" in plain_text(gateway.open_carrier(carrier))
