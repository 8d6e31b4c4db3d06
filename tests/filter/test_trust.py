"""Only trusted clients make the filter seal, for an adviser that envelope and header agree on.

Real filter, real sink, real SQLite keystore. A client outside ``filter.trusted_networks``
(here: loopback is left out of the list) gets a 5xx for mail that would be sealed, and its
other mail passes unchanged; a From: header that names another mailbox than MAIL FROM is
refused, because the PIN of a new recipient goes to the adviser.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from keystore.models import Recipient
from tests.filter.conftest import ADVISER, Harness
from tests.filter.helpers import carriers, lmtp_transaction, pin_mails, rfc5322
from webcrypt.smtp.handler import is_trusted

NOT_LOOPBACK = {"WEBCRYPT_FILTER_TRUSTED_NETWORKS": "10.0.0.0/8, fd00::/8"}


def accounts(harness: Harness) -> int:
    with harness.runtime.keystore.session() as session:
        return int(session.scalar(select(func.count()).select_from(Recipient)) or 0)


def refusal(harness: Harness, data: bytes, to: list[str], mail_from: str = ADVISER) -> str:
    """Send a message that must be refused at DATA; return the reply text."""
    with pytest.raises(smtplib.SMTPDataError) as refused:
        harness.send(data, mail_from=mail_from, to=to)
    code, text = refused.value.smtp_code, refused.value.smtp_error.decode()
    assert code == 550, (code, text)
    assert text.startswith("5.7.1 "), text
    return text


def sealed(sender_header: str, subject: str = "WebCrypt offer") -> bytes:
    return rfc5322(
        f"From: {sender_header}\nTo: c@cust.example, colleague@bank.example\n"
        f"Subject: {subject}\n\nconfidential\n"
    )


@pytest.mark.parametrize(
    ("peer", "networks", "trusted"),
    [
        (("127.0.0.1", 4711), ["127.0.0.0/8", "::1/128"], True),
        (("127.8.9.10", 4711), ["127.0.0.0/8"], True),
        (("::1", 4711, 0, 0), ["127.0.0.0/8", "::1/128"], True),
        (("::ffff:127.0.0.1", 4711, 0, 0), ["127.0.0.0/8"], True),
        (("10.1.2.3", 25), ["10.0.0.0/8"], True),
        (("10.1.2.3", 25), ["127.0.0.0/8", "::1/128"], False),
        (("192.0.2.1", 25), [], False),
        (("fe80::1%eth0", 25, 0, 2), ["fe80::/10"], True),
        (("fe80::1%eth0", 25, 0, 2), ["127.0.0.0/8"], False),
        ("/run/webcrypt.sock", ["127.0.0.0/8"], False),
        (None, ["127.0.0.0/8"], False),
        (("not an address", 25), ["0.0.0.0/0"], False),
    ],
)
def test_is_trusted(peer: object, networks: list[str], trusted: bool) -> None:
    from ipaddress import ip_network

    assert is_trusted(peer, [ip_network(n) for n in networks]) is trusted


def test_untrusted_client_gets_550_for_mail_it_would_seal(make_harness: Callable) -> None:
    harness = make_harness(**NOT_LOOPBACK)
    text = refusal(harness, sealed(f"Adviser <{ADVISER}>"), ["c@cust.example"])
    assert "only mail that comes through the company's mail server" in text
    # Nothing left the filter, not even the plaintext copy for the internal recipient.
    assert harness.sink.messages == [] and accounts(harness) == 0


def test_untrusted_client_is_refused_for_a_secure_suffix_too(make_harness: Callable) -> None:
    harness = make_harness(**NOT_LOOPBACK)
    data = rfc5322(f"From: {ADVISER}\nTo: c@cust.example#secure\nSubject: offer\n\nsecret\n")
    refusal(harness, data, ["c@cust.example#secure"])
    assert harness.sink.messages == [] and accounts(harness) == 0


@pytest.mark.parametrize(
    "data",
    [
        # Not triggered at all, from an internal and from an external sender.
        sealed(ADVISER, subject="offer"),
        rfc5322("From: x@other.example\nTo: c@cust.example\nSubject: WebCrypt\n\nhi\n"),
    ],
)
def test_untrusted_client_mail_that_is_not_sealed_passes_byte_identical(
    make_harness: Callable, data: bytes
) -> None:
    harness = make_harness(**NOT_LOOPBACK)
    sender = "x@other.example" if b"other.example" in data else ADVISER
    assert harness.send(data, mail_from=sender, to=["c@cust.example"]) == {}
    (received,) = harness.sink.wait_for(1)
    assert received.data == data and received.rcpt_tos == ["c@cust.example"]
    assert accounts(harness) == 0


def test_untrusted_client_triggered_mail_to_internal_recipients_only_is_relayed(
    make_harness: Callable,
) -> None:
    """Nothing would be sealed, so nothing is refused (the trigger word still goes)."""
    harness = make_harness(**NOT_LOOPBACK)
    data = rfc5322(f"From: {ADVISER}\nTo: colleague@bank.example\nSubject: WebCrypt hi\n\nhi\n")
    assert harness.send(data, to=["colleague@bank.example"]) == {}
    (received,) = harness.sink.wait_for(1)
    assert received.data.endswith(b"\r\n\r\nhi\r\n") and not carriers([received])


def test_trusted_network_other_than_loopback_is_configurable(make_harness: Callable) -> None:
    harness = make_harness(WEBCRYPT_FILTER_TRUSTED_NETWORKS="10.0.0.0/8,127.0.0.1/32")
    harness.send(sealed(ADVISER), to=["c@cust.example"])
    assert len(carriers(harness.sink.wait_for(2))) == 1


@pytest.mark.parametrize(
    ("from_header", "expected"),
    [
        (
            "Boss <boss@bank.example>",
            "The From: address boss@bank.example differs from the envelope sender "
            "adviser@bank.example; the PIN for new recipients goes to the sender",
        ),
        (
            "Adviser <adviser@evil.example>",
            "The From: address adviser@evil.example is not an internal address",
        ),
        (
            f"{ADVISER}, boss@bank.example",
            "needs exactly one address in its From: header, your own (adviser@bank.example)",
        ),
        ("undisclosed-recipients:;", "needs exactly one address in its From: header"),
    ],
)
def test_from_header_must_name_the_envelope_sender(
    harness: Harness, from_header: str, expected: str
) -> None:
    text = refusal(harness, sealed(from_header), ["c@cust.example", "colleague@bank.example"])
    assert expected in " ".join(text.split())
    assert harness.sink.messages == [] and accounts(harness) == 0


def test_a_message_without_from_header_is_refused(harness: Harness) -> None:
    data = rfc5322("To: c@cust.example\nSubject: WebCrypt\n\nsecret\n")
    assert "From: header" in refusal(harness, data, ["c@cust.example"])
    assert harness.sink.messages == []


def test_two_from_fields_are_refused(harness: Harness) -> None:
    data = rfc5322(
        f"From: {ADVISER}\nFrom: boss@bank.example\nTo: c@cust.example\nSubject: WebCrypt\n\nx\n"
    )
    refusal(harness, data, ["c@cust.example"])
    assert harness.sink.messages == [] and accounts(harness) == 0


def test_same_mailbox_in_another_spelling_is_accepted_and_gets_the_pin(
    harness: Harness,
) -> None:
    data = sealed('"Anna Adviser" <Adviser@BANK.example>')
    assert harness.send(data, to=["c@cust.example"]) == {}
    received = harness.sink.wait_for(2)
    (pin,) = pin_mails(received)
    assert pin.rcpt_tos == [ADVISER]
    (carrier,) = carriers(received)
    assert "Anna Adviser" in str(carrier.parsed()["From"])


def test_lmtp_gives_every_recipient_the_refusal(make_harness: Callable) -> None:
    harness = make_harness(protocol="lmtp")
    replies = lmtp_transaction(
        harness.server.port,
        ADVISER,
        ["c@cust.example", "colleague@bank.example"],
        sealed("boss@bank.example"),
    )
    assert [reply[:9] for reply in replies] == ["550 5.7.1"] * 2
    assert harness.sink.messages == [] and accounts(harness) == 0
