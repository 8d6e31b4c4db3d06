"""Turn a decrypted message into what the read page shows: headers, body, attachments.

Parts are numbered in one fixed walk over the MIME tree, so a download request that
names part "3" (or "3.1" for the first file inside a winmail.dat) finds the same part
when the same ciphertext is opened again.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from portal.sanitize import INLINE_IMAGE_TYPES, clean_html, content_id_key

#: Inline images larger than this are listed as attachments instead of being inlined.
MAX_INLINE_IMAGE = 5 * 1024 * 1024
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


@dataclass(frozen=True)
class Attachment:
    """A file of the message, offered for download."""

    part_id: str
    filename: str
    content_type: str
    size: int


@dataclass
class MessageView:
    """Everything the read page shows of one message."""

    sender: str
    to: str
    cc: str
    date: str
    subject: str
    message_id: str
    references: str
    text: str | None = None
    html: str | None = None
    blocked_remote: int = 0
    attachments: list[Attachment] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


def parse(raw: bytes) -> EmailMessage:
    """Parse message bytes with the modern email policy."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def leaves(message: Message) -> Iterator[tuple[str, Message]]:
    """Yield (part id, part) for every leaf part; attached messages count as one leaf."""
    counter = 0

    def walk(part: Message) -> Iterator[tuple[str, Message]]:
        nonlocal counter
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            children: Any = part.get_payload()
            for child in children:
                yield from walk(child)
            return
        counter += 1
        yield str(counter), part

    yield from walk(message)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header must not stop the message from being shown
        value = message.get_all(name, failobj=[""])[0] if message.get_all(name) else ""
    return " ".join(str(value or "").split())


def _payload(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = _inner(part)
        if inner is not None:
            return bytes(inner.as_bytes(policy=policy.SMTP))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _text(part: Message) -> str:
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or bool(part.get_filename())


def safe_filename(name: str | None, part_id: str, content_type: str) -> str:
    """Return a file name without paths or control characters (a made-up one when empty)."""
    cleaned = unicodedata.normalize("NFC", str(name or ""))
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch)[0] != "C").strip(" .")
    if not cleaned:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        cleaned = f"attachment-{part_id}{extension}"
    return cleaned[:200]


def _tnef_files(data: bytes) -> list[tuple[str, bytes]]:
    """Return (name, bytes) of the files inside a winmail.dat; [] when it cannot be read."""
    try:
        from tnefparse import TNEF

        tnef = TNEF(data, do_checksum=False)
        return [
            (str(attachment.long_filename() or attachment.name or ""), bytes(attachment.data))
            for attachment in tnef.attachments
        ]
    except Exception:  # an unreadable winmail.dat is still offered as it is
        return []


def _is_tnef(part: Message) -> bool:
    name = (part.get_filename() or "").lower()
    return part.get_content_type() in TNEF_TYPES or name == "winmail.dat"


def build_view(raw: bytes | EmailMessage) -> MessageView:
    """Build the read page's view of the message `raw` (bytes or already parsed)."""
    message = raw if isinstance(raw, EmailMessage) else parse(raw)
    view = MessageView(
        sender=_header(message, "From"),
        to=_header(message, "To"),
        cc=_header(message, "Cc"),
        date=_format_date(_header(message, "Date")),
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID"),
        references=_header(message, "References"),
    )
    view.addresses = [
        address.lower()
        for _name, address in getaddresses(
            [str(v) for v in (message.get_all("To", []) + message.get_all("Cc", []))]
        )
        if "@" in address
    ]
    html_part: tuple[str, Message] | None = None
    text_part: tuple[str, Message] | None = None
    parts = list(leaves(message))
    for part_id, part in parts:
        if _is_attachment(part):
            continue
        kind = part.get_content_type()
        if kind == "text/html" and html_part is None:
            html_part = (part_id, part)
        elif kind == "text/plain" and text_part is None:
            text_part = (part_id, part)

    inline_images: dict[str, str] = {}
    inlined: set[str] = set()
    html_source = _text(html_part[1]) if html_part else ""
    for part_id, part in parts:
        cid = part.get("Content-ID")
        kind = part.get_content_type()
        if cid and kind in INLINE_IMAGE_TYPES:
            data = _payload(part)
            key = content_id_key(str(cid))
            if len(data) <= MAX_INLINE_IMAGE and key and key in html_source.lower():
                encoded = base64.b64encode(data).decode("ascii")
                inline_images[key] = f"data:{kind};base64,{encoded}"
                inlined.add(part_id)

    if html_part:
        cleaned = clean_html(html_source, inline_images)
        view.html, view.blocked_remote = cleaned.html, cleaned.blocked_remote
    if text_part:
        view.text = _text(text_part[1])
    body_ids = {found[0] for found in (html_part, text_part) if found}

    for part_id, part in parts:
        if part_id in body_ids or part_id in inlined:
            continue
        kind = part.get_content_type()
        data = _payload(part)
        if _is_tnef(part):
            files = _tnef_files(data)
            if files:
                for index, (file_name, content) in enumerate(files, start=1):
                    sub_id = f"{part_id}.{index}"
                    guessed = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
                    view.attachments.append(
                        Attachment(
                            sub_id, safe_filename(file_name, sub_id, guessed), guessed, len(content)
                        )
                    )
                continue
        name = part.get_filename()
        inner = _inner(part) if kind == "message/rfc822" else None
        if not name and inner is not None:
            name = _header(inner, "Subject") + ".eml"
        view.attachments.append(
            Attachment(part_id, safe_filename(name, part_id, kind), kind, len(data))
        )
    return view


def _inner(part: Message) -> Message | None:
    inner: Any = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return inner[0]
    return None


def find_attachment(raw: bytes, part_id: str) -> tuple[Attachment, bytes] | None:
    """Return the attachment `part_id` of message `raw` with its bytes, or None."""
    if not re.fullmatch(r"\d{1,4}(?:\.\d{1,4})?", part_id):
        return None
    message = parse(raw)
    view = build_view(message)
    wanted = next((a for a in view.attachments if a.part_id == part_id), None)
    if wanted is None:
        return None
    top, _, sub = part_id.partition(".")
    part = dict(leaves(message)).get(top)
    if part is None:
        return None
    data = _payload(part)
    if sub:
        files = _tnef_files(data)
        index = int(sub) - 1
        if not 0 <= index < len(files):
            return None
        data = files[index][1]
    return wanted, data


def _format_date(value: str) -> str:
    if not value:
        return ""
    try:
        moment: Any = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return value
    return str(moment.strftime("%Y-%m-%d %H:%M %z")).strip()
