"""Messages through the running filter into the recording sink: the decisions it makes."""

from __future__ import annotations

import smtplib

import pytest

from tests.filter.conftest import ADVISER, PORTAL
from tests.filter.helpers import (
    PIN_PATTERN,
    attachment_of,
    carriers,
    open_carrier,
    pin_mails,
    rfc5322,
)
from webcrypt import envelope
from webcrypt.mail.message import MailMessage
from webcrypt.sealing.securehtm import extract_envelope

SECRET = "The account number is 12345 and the offer is 4.2 %."


def offer(to: str = "c@cust.example", subject: str = "WebCrypt offer", extra: str = "") -> bytes:
    return rfc5322(
        f"From: Ann Adviser <{ADVISER}>\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        "Message-ID: <m1@bank.example>\n"
        "In-Reply-To: <q1@cust.example>\n"
        "References: <q0@cust.example> <q1@cust.example>\n"
        f"{extra}"
        "\n"
        f"{SECRET}\n"
    )


def test_mail_without_trigger_passes_byte_for_byte(harness):
    data = rfc5322("From: a@bank.example\nTo: c@cust.example\nSubject: hello\n\nhi\n")
    harness.send(data, to=["c@cust.example", "d@bank.example"])
    (received,) = harness.sink.wait_for(1)
    assert received.data == data
    assert received.rcpt_tos == ["c@cust.example", "d@bank.example"]


def test_trigger_from_an_external_sender_passes_unchanged(harness):
    data = rfc5322("From: c@cust.example\nTo: a@bank.example\nSubject: WebCrypt?\n\nhi\n")
    harness.send(data, mail_from="c@cust.example", to=["a@bank.example"])
    assert harness.sink.wait_for(1)[0].data == data


def test_sealed_carrier(harness):
    harness.send(offer(), to=["c@cust.example"])
    received = harness.sink.wait_for(2)
    (carrier,) = carriers(received)
    assert SECRET.encode() not in b"".join(r.data for r in received)
    assert carrier.mail_from == ADVISER
    assert carrier.rcpt_tos == ["c@cust.example"]
    parsed = carrier.parsed()
    assert parsed["Subject"] == "offer"
    assert parsed["To"] == "c@cust.example"
    assert "adviser@bank.example" in parsed["From"]
    assert parsed["In-Reply-To"] == "<q1@cust.example>"
    assert parsed["References"] == "<q0@cust.example> <q1@cust.example>"
    assert parsed["X-WebCrypt"] is None
    bodies = [p for p in parsed.walk() if p.get_content_type() in ("text/plain", "text/html")]
    texts = " ".join(p.get_content() for p in bodies if p.get_filename() is None)
    assert "Ann Adviser" in texts and f"{PORTAL}/upload" in texts and "hat Ihnen" in texts
    part = attachment_of(carrier)
    assert part["Content-Transfer-Encoding"] == "7bit"
    assert part.get_content_type() == "text/html"
    # The carrier names the buttons exactly as secure.htm labels them.
    page = part.get_content()
    for button in ("Open message", "Nachricht öffnen"):
        assert f">{button}</button>" in page.replace("&ouml;", "ö").replace("&#246;", "ö")
        assert button in texts
    assert carrier.data.isascii()
    assert max(len(line) for line in carrier.data.split(b"\r\n")) <= 998


def test_secure_htm_opens_with_the_recipients_key(harness):
    harness.send(offer(to="C <c@cust.example#secure>"), to=["c@cust.example#secure"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    inner = MailMessage(open_carrier(harness.runtime, carrier))
    assert inner.subject == "offer"
    assert inner.header_recipients == ["c@cust.example"]
    assert SECRET.encode() in inner.body
    assert inner.message_id == "m1@bank.example"
    header = envelope.parse(extract_envelope(carrier.data)).header
    assert header.recipient == "c@cust.example"
    assert header.sender == ADVISER
    with harness.runtime.keystore.session() as session:
        ledger = harness.runtime.keystore.ledger(session).find("m1@bank.example")
        assert [entry.sender for entry in ledger] == [ADVISER]


def test_secure_suffix_is_removed_from_the_envelope(harness):
    harness.send(offer(subject="plain offer"), to=["c@cust.example#secure"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    assert carrier.rcpt_tos == ["c@cust.example"]
    assert carrier.parsed()["Subject"] == "plain offer"


@pytest.mark.parametrize("marker", ["X-WebCrypt: encrypt", "Sensitivity: Company-Confidential"])
def test_header_markers_trigger(harness, marker):
    harness.send(offer(subject="no word", extra=f"{marker}\n"), to=["c@cust.example"])
    assert len(carriers(harness.sink.wait_for(2))) == 1


def test_internal_recipients_get_one_plain_copy(harness):
    harness.send(offer(), to=["c@cust.example", "b@bank.example", "e@bank.example"])
    received = harness.sink.wait_for(3)
    plain = [r for r in received if SECRET.encode() in r.data]
    assert len(plain) == 1
    assert plain[0].rcpt_tos == ["b@bank.example", "e@bank.example"]
    assert MailMessage(plain[0].data).subject == "offer"
    assert len(carriers(received)) == 1


def test_secure_to_an_internal_address_is_refused(harness):
    refused = harness.send(offer(), to=["c@cust.example", "b@bank.example#secure"])
    code, text = refused["b@bank.example#secure"]
    assert code == 550
    assert b"internal" in text and b"#secure" in text
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        harness.send(offer(), to=["b@bank.example#secure"])


def test_first_contact_sends_one_pin_to_the_adviser(harness):
    harness.send(offer(), to=["c@cust.example"])
    received = harness.sink.wait_for(2)
    (pin,) = pin_mails(received)
    assert pin.rcpt_tos == [ADVISER]
    assert pin.mail_from == "<>"
    parsed = pin.parsed()
    assert parsed["From"].addresses[0].domain == "bank.example"
    text = parsed.get_content()
    assert "c@cust.example" in text and "BY PHONE ONLY" in text and "NUR TELEFONISCH" in text
    assert text.startswith("To do: call c@cust.example")
    number = PIN_PATTERN.search(text).group(1)
    with harness.runtime.keystore.session() as session:
        result = harness.runtime.keystore.recipients(session).authenticate_pin(
            "c@cust.example", number
        )
        assert result.outcome in ("ok", "password_required")
    harness.sink.clear()
    harness.send(offer(), to=["c@cust.example"])
    received = harness.sink.wait_for(1)
    assert pin_mails(received) == []
    assert len(carriers(received)) == 1


def test_pin_mail_in_german_first(harness):
    harness.settings(default_language="de")
    harness.send(offer(), to=["c@cust.example"])
    (pin,) = pin_mails(harness.sink.wait_for(2))
    text = pin.parsed().get_content()
    assert text.startswith("Zu tun:") and text.index("NUR TELEFONISCH") < text.index("PHONE")


def test_first_contact_pin_to_the_helpdesk(harness):
    harness.settings(first_contact_pin="helpdesk", pin_helpdesk="pins@bank.example")
    harness.send(offer(), to=["c@cust.example"])
    (pin,) = pin_mails(harness.sink.wait_for(2))
    assert pin.rcpt_tos == ["pins@bank.example"]
    text = pin.parsed().get_content()
    assert "you are receiving the PIN as the helpdesk" in " ".join(text.split())
    assert pin.parsed()["From"].addresses[0].domain == "bank.example"


def test_first_contact_pin_to_the_customer_when_the_settings_say_so(harness):
    harness.settings(first_contact_pin="recipient")
    harness.send(offer(), to=["c@cust.example"])
    received = harness.sink.wait_for(2)
    (pin,) = pin_mails(received)
    assert pin.rcpt_tos == ["c@cust.example"]
    assert pin.parsed()["X-WebCrypt-Notice"] == "pin_recipient"
    assert PIN_PATTERN.search(pin.parsed().get_content())


def test_deactivated_recipient_gets_nothing_and_the_adviser_a_notice(harness):
    with harness.runtime.keystore.session() as session:
        recipients = harness.runtime.keystore.recipients(session)
        recipient, _ = recipients.get_or_create("c@cust.example", created_by=ADVISER)
        recipients.set_status(recipient, "deactivated")
    harness.send(offer(), to=["c@cust.example", "d@cust.example"])
    received = harness.sink.wait_for(3)
    assert all("c@cust.example" not in r.rcpt_tos for r in received)
    notices = [r for r in received if b"deactivated" in r.data]
    assert len(notices) == 1 and notices[0].rcpt_tos == [ADVISER]
    assert "NOT delivered to c@cust.example" in notices[0].parsed().get_content()
    assert [c.rcpt_tos for c in carriers(received)] == [["d@cust.example"]]


def test_twenty_recipients_share_one_encrypted_payload(harness):
    to = [f"r{i}@cust.example" for i in range(20)]
    harness.send(offer(to=", ".join(to)), to=to)
    sealed = carriers(harness.sink.wait_for(40))
    assert sorted(r.rcpt_tos[0] for r in sealed) == sorted(to)
    payloads = set()
    for carrier in sealed:
        parsed = envelope.parse(extract_envelope(carrier.data))
        payloads.add(parsed.text[parsed.payload_start : parsed.payload_end])
    assert len(payloads) == 1


def test_admin_changes_apply_without_restart(harness):
    harness.settings(trigger_word="Vertraulich")
    harness.send(offer(subject="WebCrypt offer"), to=["c@cust.example"])
    assert carriers(harness.sink.wait_for(1)) == []
    harness.sink.clear()
    harness.send(offer(subject="Vertraulich: offer"), to=["c@cust.example"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    assert carrier.parsed()["Subject"] == "offer"


def test_attachment_domains_get_a_neutral_attachment(harness):
    harness.settings(attachment_domains=["strict.example"])
    harness.send(offer(to="s@strict.example"), to=["s@strict.example"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    part = attachment_of(carrier)
    assert part.get_content_type() == "application/octet-stream"
    assert part["Content-Transfer-Encoding"] == "7bit"
    assert b"<html" not in part.get_payload(decode=True).lower()
    assert b"upload the file" in carrier.data
    assert SECRET.encode() in open_carrier(harness.runtime, carrier)


def test_encoded_adviser_name_is_shown_decoded(harness):
    data = rfc5322(
        f"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <{ADVISER}>\nTo: c@cust.example\n"
        "Subject: WebCrypt\n\nsecret\n"
    )
    harness.send(data, to=["c@cust.example"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    parsed = carrier.parsed()
    assert parsed["From"].addresses[0].display_name == "Jürgen Müller"
    assert "Jürgen Müller" in parsed.get_body(("plain",)).get_content()


def test_the_logo_travels_inline_by_content_id_not_as_a_data_uri(harness):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    harness.settings(logo_png=png, logo_mime="image/png")
    harness.send(offer(), to=["c@cust.example"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    parsed = carrier.parsed()
    related = [p for p in parsed.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
    (image,) = [p for p in related[0].walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo@webcrypt>"
    assert image.get_content() == png
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert 'src="cid:logo@webcrypt"' in html
    assert "data:image" not in html
    assert carrier.parsed().get_body(preferencelist=("plain",)) is not None
    assert attachment_of(carrier).get_filename() == "secure.htm"


def test_without_a_logo_there_is_no_related_part(harness):
    harness.send(offer(), to=["c@cust.example"])
    (carrier,) = carriers(harness.sink.wait_for(2))
    types = {p.get_content_type() for p in carrier.parsed().walk()}
    assert "multipart/related" not in types and not any(t.startswith("image/") for t in types)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("adviser", "use the one-time PIN that Ann Adviser gives you by phone."),
        ("helpdesk", "use the one-time PIN that our helpdesk gives you by phone."),
        ("recipient", "use the one-time PIN that you receive in a separate mail."),
    ],
)
def test_the_carrier_says_where_the_first_pin_comes_from(harness, channel, expected):
    harness.settings(first_contact_pin=channel, pin_helpdesk="pins@bank.example")
    harness.send(offer(), to=["c@cust.example"])
    received = harness.sink.wait_for(2)
    (carrier,) = [r for r in carriers(received) if r.parsed()["X-WebCrypt-Notice"] is None]
    text = carrier.parsed().get_body(preferencelist=("plain",)).get_content()
    assert expected in " ".join(text.split())
