"""Helpers of the filter tests: literal messages, opening carriers, a raw LMTP client."""

from __future__ import annotations

import re
import socket
from email.message import EmailMessage

from tests.support.accounts import account_of
from tests.support.smtp import Received
from webcrypt import envelope
from webcrypt.sealing.securehtm import extract_envelope

PIN_PATTERN = re.compile(r"\b(\d{4} \d{4})\b")


def rfc5322(text: str) -> bytes:
    """Literal message text with LF line ends turned into CRLF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def carriers(received: list[Received]) -> list[Received]:
    """The carrier mails among what the sink received."""
    return [r for r in received if b"secure.htm" in r.data or b"secure-message.dat" in r.data]


def pin_mails(received: list[Received]) -> list[Received]:
    """The PIN mails among what the sink received."""
    return [r for r in received if b"Auto-Submitted" in r.data and b"PIN" in r.data]


def attachment_of(received: Received) -> EmailMessage:
    """The secure.htm (or neutral) attachment part of a carrier."""
    for part in received.parsed().walk():
        if part.get_filename() in ("secure.htm", "secure-message.dat"):
            assert isinstance(part, EmailMessage)
            return part
    raise AssertionError("no attachment")


def open_carrier(runtime, received: Received) -> bytes:
    """Decrypt a carrier's attachment with the recipient's key from the keystore."""
    armored = extract_envelope(received.data)
    parsed = envelope.parse(armored)
    with account_of(runtime.keystore, parsed.header.recipient) as (recipients, recipient):
        key = recipients.key(recipient.id, parsed.header.key_version)
    assert key is not None
    return envelope.open(parsed, key)


def lmtp_transaction(port: int, mail_from: str, rcpt_tos: list[str], data: bytes) -> list[str]:
    """Run one LMTP transaction and return the DATA replies (one per accepted recipient)."""
    return lmtp_session(port, [(mail_from, rcpt_tos, data)])[0]


def lmtp_session(port: int, transactions: list[tuple[str, list[str], bytes]]) -> list[list[str]]:
    """Run LMTP transactions on one connection; return each one's DATA replies."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream = sock.makefile("rwb")

        def reply() -> str:
            lines = []
            while True:
                line = stream.readline().decode()
                lines.append(line.strip())
                if len(line) < 4 or line[3] != "-":
                    return lines[-1]

        def command(text: str) -> str:
            stream.write(text.encode() + b"\r\n")
            stream.flush()
            return reply()

        reply()
        command("LHLO test")
        results = []
        for mail_from, rcpt_tos, data in transactions:
            assert command(f"MAIL FROM:<{mail_from}>").startswith("250")
            accepted = [r for r in rcpt_tos if command(f"RCPT TO:<{r}>").startswith("250")]
            assert command("DATA").startswith("354")
            body = data.replace(b"\r\n.", b"\r\n..")
            stream.write(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
            stream.flush()
            results.append([reply() for _ in accepted])
        command("QUIT")
        return results


def smtp_wire(data: bytes) -> bytes:
    """`data` as sent after DATA (RFC 5321 dot-stuffing of CRLF lines, final CRLF "." CRLF)."""
    body = (b"." if data.startswith(b".") else b"") + data.replace(b"\r\n.", b"\r\n..")
    return body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def as_received(data: bytes) -> bytes:
    """What an SMTP server that ends lines only at CRLF receives when the relay sends `data`.

    The message always ends in CRLF, and a dot after a bare LF keeps the extra dot the relay
    puts there (see test_dot_after_a_bare_line_feed_cannot_end_the_data).
    """
    data = re.sub(rb"(?<!\r)\n\.", b"\n..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def smtp_transaction(
    port: int, mail_from: bytes, rcpt_tos: list[bytes], data: bytes, *, smtputf8: bool = False
) -> tuple[list[str], str]:
    """Run one SMTP transaction with raw bytes; return the RCPT replies and the DATA reply.

    Unlike smtplib, the message goes out exactly as given: dot-stuffing only at the start of
    CRLF lines (a bare LF or CR does not end a line on the wire), and no line ends changed.
    The DATA reply is "" when no recipient was accepted.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        stream = sock.makefile("rwb")

        def reply() -> str:
            while True:
                line = stream.readline().decode("utf-8", "replace")
                if len(line) < 4 or line[3] != "-":
                    return line.strip()

        def command(line: bytes) -> str:
            stream.write(line + b"\r\n")
            stream.flush()
            return reply()

        reply()
        assert command(b"EHLO test").startswith("250")
        option = b" SMTPUTF8" if smtputf8 else b""
        assert command(b"MAIL FROM:<" + mail_from + b">" + option).startswith("250")
        rcpt_replies = [command(b"RCPT TO:<" + rcpt + b">") for rcpt in rcpt_tos]
        final = ""
        if any(r.startswith("250") for r in rcpt_replies):
            assert command(b"DATA").startswith("354")
            stream.write(smtp_wire(data))
            stream.flush()
            final = reply()
        command(b"QUIT")
        return rcpt_replies, final
