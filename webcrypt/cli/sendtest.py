"""`webcrypt send-test`: a sample mail through the running filter, and what came of it."""

from __future__ import annotations

import re
import smtplib
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path

import click

from webcrypt.config.loader import Config


def send_test_mail(config: Config, recipient: str, sender: str | None, timeout: float) -> None:
    """Send the sample mail to `recipient` through the filter and report where it went."""
    sender = sender or f"adviser@{config.filter.internal_domains[0]}"
    message = sample_message(sender, recipient)
    host, _, port = config.filter.listen.rpartition(":")
    started = time.time()
    try:
        with smtplib.SMTP(host, int(port), timeout=timeout) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise click.ClickException(
            f"the filter on {config.filter.listen} did not take the mail ({exc}); "
            "is `webcrypt serve` running?"
        ) from None
    click.echo(f"sent '{message['Subject']}' from {sender} to {recipient} through the filter")
    relay = str(config.filter.relay)
    if not relay.startswith("outbox:"):
        click.echo(f"it went on to {config.describe_value('filter.relay')}")
        return
    found = collect_from_outbox(Path(relay.removeprefix("outbox:")), recipient, since=started)
    if found.secure_htm is None:
        raise click.ClickException(
            "no carrier for that recipient arrived in the outbox; see the gateway's log"
        )
    click.echo(f"secure.htm for {recipient}: {found.secure_htm.resolve()}")
    click.echo(f"  open it in a browser: file://{found.secure_htm.resolve()}")
    if found.pin:
        click.echo(f"one-time PIN from the adviser's notice: {found.pin}")
    else:
        click.echo("no PIN mail this time: the account exists already, log in with your password")


def sample_message(sender: str, recipient: str) -> EmailMessage:
    """Build the test mail: the trigger word in the subject, a body and a small attachment."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = "Test message [WebCrypt]"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(
        "Hello,\n\nthis message was sealed by your WebCrypt gateway. If you can read it in the "
        "portal, everything works.\n\nReply to it from the portal to see the way back.\n"
    )
    message.add_attachment(
        b"Sample attachment\n", maintype="text", subtype="plain", filename="sample.txt"
    )
    return message


@dataclass
class OutboxFindings:
    """What `send-test` found in the outbox for one recipient."""

    secure_htm: Path | None = None
    pin: str | None = None


_PIN = re.compile(r"\b(\d{4} \d{4})\b")


def collect_from_outbox(outbox: Path, recipient: str, *, since: float) -> OutboxFindings:
    """Save the newest carrier's secure.htm for `recipient` next to it and find the PIN mail."""
    found = OutboxFindings()
    wanted = recipient.strip().lower()
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        if path.stat().st_mtime < since - 1:
            continue
        mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        envelope_to = str(mail.get("X-Envelope-To", "")).lower()
        if mail.get("X-WebCrypt-Notice") == "pin" or (
            mail.get("Auto-Submitted") and wanted in str(mail.get_body() or "").lower()
        ):
            body = mail.get_body(preferencelist=("plain",))
            match = _PIN.search(body.get_content() if body is not None else "")
            if match:
                found.pin = match.group(1)
            continue
        if wanted not in envelope_to:
            continue
        for part in mail.iter_attachments():
            if part.get_filename() == "secure.htm":
                target = path.with_suffix(".secure.htm")
                payload = part.get_payload(decode=True)
                target.write_bytes(payload if isinstance(payload, bytes) else b"")
                found.secure_htm = target
    return found
