"""Mail the portal sends on a recipient's behalf: replies and new messages to an adviser.

Who may receive it is decided here from authenticated facts (the envelope header, the
decrypted message, the ledger) and never from a form field, so the portal is no open relay.
"""

from __future__ import annotations

import html
import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

import nh3

from keystore.addresses import normalize_address
from portal.mimeview import MessageView, safe_filename
from portal.moments import show_moment

_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", re.IGNORECASE)


@dataclass(frozen=True)
class Upload:
    """A file the recipient attached (held in memory only)."""

    filename: str
    content_type: str
    data: bytes


def _normalized(address: str) -> str | None:
    try:
        return normalize_address(address)
    except ValueError:
        return None


def reply_recipients(
    sender: str,
    view: MessageView,
    own_address: str,
    *,
    reply_all: bool,
    is_internal: Any,
) -> list[str]:
    """Return who a reply goes to: the sealed message's internal sender, plus its other
    internal addresses with `reply_all`; [] when the sender is not internal."""
    adviser = _normalized(sender)
    if adviser is None or not is_internal(adviser):
        return []
    chosen = [adviser]
    if reply_all:
        for address in view.addresses:
            normalized = _normalized(address)
            if (
                normalized
                and normalized not in chosen
                and normalized != own_address
                and is_internal(normalized)
            ):
                chosen.append(normalized)
    return chosen


def known_advisers(entries: Iterable[Any], is_internal: Any) -> list[str]:
    """Return the internal senders of the ledger entries, each once, in a stable order."""
    found: list[str] = []
    for entry in entries:
        address = _normalized(str(entry.sender))
        if address and is_internal(address) and address not in found:
            found.append(address)
    return sorted(found)


def reply_subject(subject: str, trigger_word: str) -> str:
    """Return "Re: subject" with the trigger word kept, so the adviser's answer is sealed."""
    subject = " ".join(subject.split())
    if not re.match(r"(?i)(re|aw|antw)\s*:", subject):
        subject = f"Re: {subject}" if subject else "Re:"
    return ensure_trigger(subject, trigger_word)


def ensure_trigger(subject: str, trigger_word: str) -> str:
    """Append the trigger word to `subject` unless it is already there."""
    subject = " ".join(subject.split())
    if trigger_word and trigger_word.lower() not in subject.lower():
        subject = f"{subject} [{trigger_word}]".strip()
    return subject


def quote_text(view: MessageView) -> str:
    """Return the message body as quoted plain text for the reply form."""
    if view.text is not None:
        text = view.text
    elif view.html is not None:
        text = html.unescape(nh3.clean(view.html.replace("<br>", "\n"), tags=set()))
    else:
        text = ""
    lines = text.replace("\r\n", "\n").strip("\n").split("\n")
    intro = f"{view.sender} ({show_moment(view.date)}):" if view.date else f"{view.sender}:"
    return "\n\n" + intro + "\n" + "\n".join("> " + line for line in lines)


def message_id_domain(public_url: str) -> str:
    """Return the host name used on the right of generated Message-IDs."""
    return urlsplit(public_url).hostname or "localhost"


def build_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    uploads: Sequence[Upload],
    now: Any,
    domain: str,
    in_reply_to: str = "",
    references: str = "",
) -> EmailMessage:
    """Build the outgoing message; header values cannot break out of their line."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = recipients[0]
    if len(recipients) > 1:
        message["Cc"] = ", ".join(recipients[1:])
    message["Reply-To"] = sender
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    message_ids = _message_ids(in_reply_to)
    if message_ids:
        message["In-Reply-To"] = message_ids[0]
        chain = _message_ids(references) + message_ids[:1]
        message["References"] = " ".join(dict.fromkeys(chain))
    message["X-WebCrypt-Portal"] = "reply" if message_ids else "message"
    message.set_content(body.replace("\r\n", "\n"), subtype="plain", charset="utf-8")
    for index, upload in enumerate(uploads, start=1):
        kind = upload.content_type if _MIME_TYPE.fullmatch(upload.content_type or "") else ""
        kind = kind or mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        message.add_attachment(
            upload.data,
            maintype=maintype,
            subtype=subtype,
            filename=safe_filename(upload.filename, str(index), kind),
        )
    return message


def _message_ids(value: str) -> list[str]:
    """Return the <id@host> tokens of a Message-ID/References value (nothing else passes)."""
    return re.findall(r"<[^<>\s\"]{1,250}@[^<>\s\"]{1,250}>", value or "")[:20]
