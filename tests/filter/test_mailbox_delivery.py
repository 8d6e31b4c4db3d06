"""The delivery methods through the running filter: what the sink gets, what is stored."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.filter.conftest import ADVISER, PORTAL
from tests.filter.helpers import carriers, open_carrier, pin_mails, rfc5322, smtp_transaction
from tests.support.accounts import account_of
from webcrypt import envelope
from webcrypt.sealing.summary import open_summary

SECRET = "Kontonummer 12345 Zebrafinkangebot"
SUBJECT = "Vertragsangebot Quastenflosser"
CUSTOMER = "c@cust.example"
LINK = re.compile(rf"{re.escape(PORTAL)}/inbox/([A-Za-z0-9_-]+)")


def offer(extra: str = "", to: str = CUSTOMER, message_id: str = "m1@bank.example") -> bytes:
    return rfc5322(
        f"From: Ann Quokka-Adviser <{ADVISER}>\n"
        f"To: {to}\n"
        f"Subject: WebCrypt {SUBJECT}\n"
        f"Message-ID: <{message_id}>\n"
        f"{extra}"
        "\n"
        f"{SECRET}\n"
    )


def notifications(received):
    return [r for r in received if b"X-WebCrypt-Mailbox" in r.data]


def stored(harness, address: str = CUSTOMER):
    with account_of(harness.runtime.keystore, address) as (recipients, account):
        mailbox = harness.runtime.keystore.mailbox(recipients.session)
        entries = mailbox.page(account.id)
        return [
            (entry, mailbox.envelope(account.id, entry.id), recipients.key(account.id, 1))
            for entry in entries
        ]


def database_bytes(harness) -> bytes:
    path = Path(harness.runtime.keystore.url.database)
    harness.runtime.keystore.engine.dispose()  # checkpoint nothing, but close handles
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_mailbox_method_stores_ciphertext_and_sends_a_notification(make_harness):
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox")
    harness.send(offer(), to=[CUSTOMER])
    received = harness.sink.wait_for(2)
    assert carriers(received) == []
    (note,) = notifications(received)
    assert len([r for r in pin_mails(received) if b"X-WebCrypt-Notice: pin" in r.data]) == 1
    text = note.data.decode()
    assert SECRET not in text and SUBJECT not in text
    assert "Ann Quokka-Adviser" in text and "portal.bank.example" in text
    (entry_id,) = set(LINK.findall(text))
    assert note.rcpt_tos == [CUSTOMER] and note.mail_from == ADVISER
    assert note.parsed().get_content_type() == "multipart/alternative"
    # Language unknown: both languages.
    assert "secure message" in text and "sichere Nachricht" in text

    ((entry, blob, key),) = stored(harness)
    assert entry.id == entry_id and entry.message_id == "m1@bank.example"
    assert entry.expires_at - entry.stored_at == timedelta(days=30)
    opened = envelope.open(envelope.parse(blob), key)
    assert SECRET.encode() in opened
    summary = open_summary(entry.summary, key)
    assert summary.subject == SUBJECT and summary.sender_name == "Ann Quokka-Adviser"
    assert summary.size == len(opened)

    everything = database_bytes(harness)
    for clear in (SECRET, SUBJECT, "Quastenflosser", "Quokka"):
        assert clear.encode() not in everything, clear


def test_the_notification_carries_the_logo_by_content_id_like_the_carrier(make_harness):
    # Gmail and Outlook do not show data: images: the logo travels as an inline part.
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    harness.settings(logo_png=png, logo_mime="image/png")
    harness.send(offer(), to=[CUSTOMER])
    (note,) = notifications(harness.sink.wait_for(2))
    parsed = note.parsed()
    (image,) = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo@webcrypt>" and image.get_content() == png
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert 'src="cid:logo@webcrypt"' in html
    assert "data:image" not in html


def test_both_attaches_and_links_the_same_envelope(make_harness):
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="both")
    harness.send(offer(), to=[CUSTOMER])
    received = harness.sink.wait_for(2)
    (carrier,) = carriers(received)
    assert notifications(received) == []
    (entry_id,) = set(LINK.findall(carrier.data.decode()))
    assert SECRET.encode() in open_carrier(harness.runtime, carrier)
    ((entry, blob, key),) = stored(harness)
    assert entry.id == entry_id
    assert SECRET.encode() in envelope.open(envelope.parse(blob), key)


def test_attachment_is_still_the_default(harness):
    harness.send(offer(), to=[CUSTOMER])
    (carrier,) = carriers(harness.sink.wait_for(2))
    assert b"/inbox/" not in carrier.data
    assert stored(harness) == []


def test_the_advisers_header_forces_a_method_and_is_removed(harness):
    harness.send(offer("X-WebCrypt-Delivery: Mailbox\n"), to=[CUSTOMER])
    received = harness.sink.wait_for(2)
    assert carriers(received) == [] and len(notifications(received)) == 1
    ((_, blob, key),) = stored(harness)
    opened = envelope.open(envelope.parse(blob), key)
    assert SECRET.encode() in opened
    assert b"x-webcrypt-delivery" not in opened.lower()


def test_the_header_is_removed_from_the_attachment_too(harness):
    harness.send(offer("X-WebCrypt-Delivery: attachment\n"), to=[CUSTOMER])
    (carrier,) = carriers(harness.sink.wait_for(2))
    assert b"x-webcrypt-delivery" not in open_carrier(harness.runtime, carrier).lower()


def test_the_recipients_choice_and_the_domain_rule(harness):
    harness.send(offer(message_id="m0@bank.example"), to=[CUSTOMER])
    harness.sink.wait_for(2)
    with account_of(harness.runtime.keystore, CUSTOMER) as (recipients, account):
        harness.runtime.keystore.mailbox(recipients.session).set_delivery_method(
            account.id, "mailbox"
        )
    harness.server.delivery.sealer.account_cache.clear()
    harness.send(offer(message_id="m1@bank.example"), to=[CUSTOMER])
    assert len(notifications(harness.sink.wait_for(3))) == 1

    harness.settings(mailbox_domains="other.example")
    harness.send(offer(to="d@other.example", message_id="m2@bank.example"), to=["d@other.example"])
    received = harness.sink.wait_for(5)
    assert [n.rcpt_tos for n in notifications(received)][-1] == ["d@other.example"]


def test_notification_subject_when_the_operator_allows_it(make_harness):
    harness = make_harness(
        WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox", WEBCRYPT_MAILBOX_NOTIFICATION_SUBJECT="true"
    )
    harness.send(offer(), to=[CUSTOMER])
    (note,) = notifications(harness.sink.wait_for(2))
    assert SUBJECT in note.parsed()["Subject"] and SECRET not in note.data.decode()


def fill_mailbox(harness, size: int) -> None:
    with account_of(harness.runtime.keystore, CUSTOMER) as (recipients, account):
        harness.runtime.keystore.mailbox(recipients.session).store(
            account.id,
            "filler",
            message_id="filler@bank.example",
            key_version=1,
            envelope=b"x" * size,
            summary=b"s",
            expires_at=harness.clock() + timedelta(days=30),
            quota=10 * size,
        )


def test_a_full_mailbox_refuses_with_the_reason(make_harness):
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox")
    harness.send(offer(message_id="m0@bank.example"), to=[CUSTOMER])
    harness.sink.wait_for(2)
    harness.settings(mailbox_quota=1024 * 1024, max_message_size=1024 * 1024)
    fill_mailbox(harness, 1024 * 1024 - 100)
    before = len(harness.sink.messages)
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [CUSTOMER.encode()], offer())
    assert reply.startswith("552 5.2.2 ") and "mailbox of c@cust.example is full" in reply, reply
    assert len(harness.sink.messages) == before
    assert len(stored(harness)) == 2  # the first message and the filler


def test_a_full_mailbox_can_fall_back_to_the_attachment(make_harness):
    harness = make_harness(
        WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox", WEBCRYPT_MAILBOX_WHEN_FULL="attachment"
    )
    harness.send(offer(message_id="m0@bank.example"), to=[CUSTOMER])
    harness.sink.wait_for(2)
    harness.settings(mailbox_quota=1024 * 1024, max_message_size=1024 * 1024)
    fill_mailbox(harness, 1024 * 1024 - 100)
    harness.send(offer(), to=[CUSTOMER])
    received = harness.sink.wait_for(4)[2:]
    (carrier,) = [c for c in carriers(received) if c.rcpt_tos == [CUSTOMER]]
    assert b"/inbox/" not in carrier.data
    (notice,) = [r for r in received if b"X-WebCrypt-Notice: mailbox_full" in r.data]
    assert notice.rcpt_tos == [ADVISER]
    assert SECRET.encode() not in notice.data


def test_a_message_over_the_size_limit_is_refused_and_not_stored(make_harness):
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox")
    harness.settings(max_message_size=1024 * 1024)
    harness.server.stop(drain_timeout=1)
    harness.server.start()
    big = offer() + b"A" * (1024 * 1024)
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [CUSTOMER.encode()], big)
    assert reply.startswith("552"), reply
    assert harness.sink.messages == []
    with harness.runtime.keystore.session() as session:
        assert harness.runtime.keystore.mailbox(session).totals().messages == 0


def offer_while_the_mailbox_fails(harness, monkeypatch):
    """Offer a message while the keystore cannot store it: the filter defers it (451)."""
    from keystore.errors import KeystoreUnavailable
    from keystore.mailbox import MailboxService

    def broken(*args, **kwargs):
        raise KeystoreUnavailable("the keystore database is unavailable; try again later")

    with monkeypatch.context() as patched:
        patched.setattr(MailboxService, "store", broken)
        _, reply = smtp_transaction(
            harness.server.port, ADVISER.encode(), [CUSTOMER.encode()], offer()
        )
    assert reply.startswith("451"), reply


def test_a_store_failure_defers_and_loses_nothing(make_harness, monkeypatch):
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox")
    offer_while_the_mailbox_fails(harness, monkeypatch)
    assert harness.sink.messages == []
    harness.send(offer(), to=[CUSTOMER])
    assert len(notifications(harness.sink.wait_for(1))) == 1
    assert len(stored(harness)) == 1


@pytest.mark.parametrize("method", ["mailbox", "both"])
def test_a_retry_stores_once_and_keeps_the_link(make_harness, method):
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD=method)
    harness.send(offer(), to=[CUSTOMER])
    harness.send(offer(), to=[CUSTOMER])
    received = harness.sink.wait_for(3)
    links = {link for r in received for link in LINK.findall(r.data.decode())}
    assert len(links) == 1
    assert len(stored(harness)) == 1


def test_the_retry_after_a_store_failure_still_brings_the_first_pin(make_harness, monkeypatch):
    """A failed first delivery gives back the account's PIN lease: the retry mails a PIN."""
    harness = make_harness(WEBCRYPT_MAILBOX_DEFAULT_METHOD="mailbox")
    offer_while_the_mailbox_fails(harness, monkeypatch)
    harness.send(offer(), to=[CUSTOMER])
    received = harness.sink.wait_for(2)
    assert len(notifications(received)) == 1
    assert len([r for r in pin_mails(received) if r not in notifications(received)]) == 1
