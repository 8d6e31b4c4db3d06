"""extract_envelope: find the envelope in secure.htm, in a whole mail, or as bare text."""

from __future__ import annotations

import os
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from tests.envelope.conftest import recipient, seal_for
from tests.vectors.generate import rearm, split
from webcrypt.envelope import EnvelopeFormatError, open, parse
from webcrypt.sealing.securehtm import extract_envelope, render_secure_htm

ALICE = recipient("alice")
MESSAGE = b"Subject: Kontoauszug\r\n\r\n" + os.urandom(3000)


@pytest.fixture(scope="module")
def armored() -> str:
    return seal_for(MESSAGE, [ALICE]).armored(ALICE.address)


@pytest.fixture(scope="module")
def secure_htm(armored: str) -> str:
    return render_secure_htm(armored, parse(armored).header)


def opens(text: str) -> bool:
    return open(parse(text), ALICE.key) == MESSAGE


def carrier(html: str, cte: str) -> bytes:
    """Build a carrier mail with secure.htm attached in the given transfer encoding."""
    mail = EmailMessage(policy=policy.SMTP)
    mail["From"] = "adviser@bank.example"
    mail["To"] = ALICE.address
    mail["Subject"] = "Secure message"
    mail.set_content("Please open the attachment secure.htm.\n")
    if cte == "base64":
        mail.add_attachment(
            html.encode("ascii"), "text", "html", filename="secure.htm", cte="base64"
        )
    else:
        mail.add_attachment(html, subtype="html", filename="secure.htm", cte=cte)
    return mail.as_bytes()


def test_bare_armor(armored: str) -> None:
    assert opens(extract_envelope(armored.encode("ascii")))
    assert opens(extract_envelope(b"\r\n" + armored.replace("\n", "\r\n").encode("ascii")))


def test_secure_htm(secure_htm: str) -> None:
    assert opens(extract_envelope(secure_htm.encode("ascii")))


def test_secure_htm_saved_with_crlf(secure_htm: str) -> None:
    assert opens(extract_envelope(secure_htm.replace("\n", "\r\n").encode("ascii")))


@pytest.mark.parametrize("cte", ["7bit", "base64", "quoted-printable"])
def test_whole_mail_in_any_transfer_encoding(secure_htm: str, cte: str) -> None:
    raw = carrier(secure_htm, cte)
    assert f"Content-Transfer-Encoding: {cte}".encode() in raw
    assert opens(extract_envelope(raw))


def test_quoted_printable_really_mangles_the_raw_text(armored: str) -> None:
    """The envelope must be found by decoding the part, not by searching the raw mail."""
    html = render_secure_htm(armored, parse(armored).header)
    raw = carrier(html.replace("\n", " \n"), "quoted-printable")
    assert b"=20\n" in raw or b"=20\r\n" in raw
    assert opens(extract_envelope(raw))


def test_forwarded_mail(secure_htm: str) -> None:
    outer = EmailMessage(policy=policy.SMTP)
    outer["From"] = "alice@mail.example"
    outer["Subject"] = "Fwd: Secure message"
    outer.set_content("see below")
    forwarded = BytesParser(policy=policy.default).parsebytes(carrier(secure_htm, "base64"))
    outer.add_attachment(forwarded)
    assert b"Content-Type: message/rfc822" in outer.as_bytes()
    assert opens(extract_envelope(outer.as_bytes()))


def test_mbox_style_mail(secure_htm: str) -> None:
    raw = b"From adviser@bank.example Mon Nov 23 09:30:00 2026\n" + carrier(secure_htm, "base64")
    assert opens(extract_envelope(raw))


def test_mail_without_envelope() -> None:
    mail = EmailMessage()
    mail["Subject"] = "Lunch?"
    mail.set_content("Shall we?")
    with pytest.raises(EnvelopeFormatError, match="does not contain a WebCrypt secure message"):
        extract_envelope(mail.as_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<!DOCTYPE html><html><body><form><textarea>hello</textarea></form></body></html>",
        b"%PDF-1.7\n\x00\x01binary",
        "Grüße".encode(),
        "-----BEGIN WEBCRYPT ENVELOPE-----\nGrüße\n-----END WEBCRYPT ENVELOPE-----".encode(),
    ],
    ids=["empty", "other-html", "pdf", "text", "not-ascii-inside"],
)
def test_files_that_are_not_ours(data: bytes) -> None:
    with pytest.raises(EnvelopeFormatError, match="No WebCrypt secure message was found"):
        extract_envelope(data)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_secure_htm(secure_htm: str, fraction: float) -> None:
    cut = secure_htm[: int(len(secure_htm) * fraction)]
    with pytest.raises(EnvelopeFormatError) as caught:
        extract_envelope(cut.encode("ascii"))
    assert "incomplete" in str(caught.value) or "No WebCrypt" in str(caught.value)


def test_secure_htm_cut_inside_the_envelope_says_incomplete(secure_htm: str) -> None:
    cut = secure_htm[: secure_htm.index("-----END")]
    with pytest.raises(EnvelopeFormatError, match="incomplete"):
        extract_envelope(cut.encode("ascii"))


def test_malformed_header_in_secure_htm(secure_htm: str) -> None:
    broken = secure_htm.replace(
        "-----BEGIN WEBCRYPT ENVELOPE-----\n", "-----BEGIN WEBCRYPT ENVELOPE-----\n*"
    )
    with pytest.raises(EnvelopeFormatError, match="damaged"):
        extract_envelope(broken.encode("ascii"))


def test_unknown_version_in_secure_htm(armored: str) -> None:
    header, payload = split(armored)
    future = rearm(header[:8] + b"\x02" + header[9:], payload)
    html = render_secure_htm(future, parse(armored).header)
    with pytest.raises(EnvelopeFormatError, match="format version 2"):
        extract_envelope(html.encode("ascii"))
    with pytest.raises(EnvelopeFormatError, match="format version 2"):
        extract_envelope(carrier(html, "base64"))
