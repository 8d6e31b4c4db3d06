"""What the inbox list shows of a stored message, sealed under the recipient's key.

The secure mailbox keeps no readable text: the list's date, sender, subject, size and
attachment count are a small JSON document sealed as an envelope of its own
(`webcrypt.envelope`, the same format and recipient key as the message), one per
recipient. The portal opens it with the key it unwraps to open the message itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime
from typing import NotRequired, TypedDict, Unpack

from webcrypt import envelope
from webcrypt.mail.message import MailMessage, decode_text, without_surrogates

FORMAT = 1
"""The version of the sealed JSON document (its "v" field)."""
MAX_TEXT = 500
"""Longest subject or sender name kept in a summary (the list shows less)."""


@dataclass(frozen=True)
class Summary:
    """One line of the inbox: what the message is, never what it says."""

    date: datetime
    sender_name: str
    sender_address: str
    subject: str
    size: int
    attachments: int

    def to_json(self) -> bytes:
        """The document that is sealed."""
        fields = asdict(self)
        fields["date"] = self.date.astimezone(UTC).isoformat()
        return json.dumps({"v": FORMAT, **fields}, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Summary:
        """Read a sealed document back; ValueError when it is not one."""
        try:
            fields = json.loads(data.decode("utf-8"))
            if not isinstance(fields, dict) or fields.pop("v", None) != FORMAT:
                raise ValueError("not a mailbox summary of a known version")
            date = datetime.fromisoformat(str(fields.pop("date")))
            return cls(
                date=date if date.tzinfo else date.replace(tzinfo=UTC),
                sender_name=str(fields["sender_name"]),
                sender_address=str(fields["sender_address"]),
                subject=str(fields["subject"]),
                size=int(fields["size"]),
                attachments=int(fields["attachments"]),
            )
        except (KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a mailbox summary: {exc}") from None


def _date(message: MailMessage, fallback: datetime) -> datetime:
    try:
        parsed = parsedate_to_datetime(message.get("Date"))
    except (TypeError, ValueError, IndexError):
        return fallback
    if parsed is None:
        return fallback
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def summarize(raw: bytes, *, now: datetime) -> Summary:
    """Describe a message for the inbox list (never raises on malformed headers)."""
    message = MailMessage(raw)
    return describe(message, message, size=len(raw), now=now)


def describe(headers: MailMessage, body: MailMessage, *, size: int, now: datetime) -> Summary:
    """Describe a message of `size` bytes with the fields of `headers` and the body of `body`.

    The two differ when the header block was rewritten: the body is read where it lies,
    never joined to the new header block. The attachment count is what the message
    declares (``Content-Disposition: attachment`` parts), found by one scan of the bytes:
    a marker, not a MIME parse.
    """
    name, address = "", ""
    try:
        pairs = getaddresses([headers.get("From")])
    except Exception:  # a malformed From must not stop sealing
        pairs = []
    if pairs:
        name, address = pairs[0]
    return Summary(
        date=_date(headers, now),
        sender_name=without_surrogates(decode_text(name))[:MAX_TEXT],
        sender_address=without_surrogates(address)[:320],
        subject=headers.subject[:MAX_TEXT],
        size=size,
        attachments=_attachments(body.raw, body.body_start),
    )


def _attachments(raw: bytes, offset: int) -> int:
    """Count the ``Content-Disposition: attachment`` fields at line starts after `offset`.

    Two plain searches for the middle of the field name (lower and upper case), each hit
    checked in place (any case): no copy of the body, no regular expression over megabytes.
    """
    count = 0
    for middle in (b"isposition:", b"ISPOSITION:"):
        found = raw.find(middle, offset)
        while found != -1:
            start = found - len(b"content-d")
            if start >= offset and (start == offset or raw[start - 1 : start] in (b"\r", b"\n")):
                value = raw[found + len(middle) : found + len(middle) + 64].lstrip(b" \t")
                if raw[start:found].lower() == b"content-d" and value[:10].lower() == b"attachment":
                    count += 1
            found = raw.find(middle, found + len(middle))
    return count


class SummaryHeader(TypedDict):
    """The envelope header facts a summary is sealed with: the same as its message's."""

    sender: str
    message_id: str
    portal_url: str
    expires: datetime
    now: datetime
    rng: NotRequired[Callable[[int], bytes]]


def seal_summary(
    summary: Summary,
    recipients: Sequence[envelope.RecipientKey],
    **header: Unpack[SummaryHeader],
) -> Mapping[str, bytes]:
    """Seal `summary` once for every recipient; return each one's armored envelope (ASCII)."""
    sealed = envelope.seal(summary.to_json(), recipients, **header)
    return {
        recipient.address: sealed.armored(recipient.address).encode("ascii")
        for recipient in recipients
    }


def open_summary(blob: bytes, key: bytes) -> Summary:
    """Open a sealed summary with the recipient key of its version (`MailboxEntry.key_version`).

    Raises `webcrypt.envelope.DecryptionError` for a wrong key or damaged data and
    `webcrypt.envelope.EnvelopeFormatError` for something that is no envelope.
    """
    parsed = envelope.parse(blob)
    data = envelope.open(parsed, key, max_size=64 * 1024)
    try:
        return Summary.from_json(data)
    except ValueError:
        raise envelope.DecryptionError() from None
