"""The inbox summary: described from the message, sealed per recipient, opened with its key."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from webcrypt import envelope
from webcrypt.sealing.summary import Summary, open_summary, seal_summary, summarize

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
MESSAGE = (
    b"From: =?utf-8?q?J=C3=BCrgen_Berater?= <juergen@bank.example>\r\n"
    b"To: kunde@example.com\r\n"
    b"Subject: =?utf-8?q?Ihr_Vertrag_=C3=84nderung?=\r\n"
    b"Date: Tue, 01 Dec 2026 09:30:00 +0100\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nGeheimer Inhalt\r\n"
    b"--b\r\nContent-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\nJVBERi0=\r\n'
    b"--b\r\nContent-Type: image/png\r\n"
    b'Content-Disposition: ATTACHMENT; filename="b.png"\r\n\r\niVBORw0=\r\n--b--\r\n'
)


def key(address: str, version: int = 1) -> envelope.RecipientKey:
    return envelope.RecipientKey(address, "kid-" + address[:3], version, os.urandom(32))


def test_summarize_reads_what_the_list_shows() -> None:
    summary = summarize(MESSAGE, now=NOW)
    assert summary.sender_name == "Jürgen Berater"
    assert summary.sender_address == "juergen@bank.example"
    assert summary.subject == "Ihr Vertrag Änderung"
    assert summary.date == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert summary.size == len(MESSAGE) and summary.attachments == 2


def test_summarize_tolerates_a_broken_header() -> None:
    summary = summarize(b"From: <<<\r\nDate: yesterday\r\n\r\nbody", now=NOW)
    assert summary.date == NOW and summary.subject == "" and summary.attachments == 0


def test_sealed_per_recipient_and_opened_with_its_key() -> None:
    alice, bob = key("alice@example.com"), key("bob@example.com", 3)
    summary = summarize(MESSAGE, now=NOW)
    sealed = seal_summary(
        summary,
        [alice, bob],
        sender="juergen@bank.example",
        message_id="m1@bank",
        portal_url="https://secure.bank.example",
        expires=NOW + timedelta(days=30),
        now=NOW,
    )
    assert set(sealed) == {alice.address, bob.address}
    for blob in sealed.values():
        assert b"Vertrag" not in blob and "Jürgen".encode() not in blob
        assert b"Berater" not in blob
    assert open_summary(sealed[alice.address], alice.key) == summary
    assert open_summary(sealed[bob.address], bob.key) == summary
    with pytest.raises(envelope.DecryptionError):
        open_summary(sealed[alice.address], bob.key)
    with pytest.raises(envelope.EnvelopeFormatError):
        open_summary(b"not an envelope", alice.key)


def test_json_round_trip_and_refusal() -> None:
    summary = Summary(NOW, "Ä", "a@b", "Betreff", 12, 0)
    assert Summary.from_json(summary.to_json()) == summary
    with pytest.raises(ValueError, match="summary"):
        Summary.from_json(b'{"v": 99}')
