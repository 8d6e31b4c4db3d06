"""A read-only view of a raw RFC 5322 message that never raises on malformed headers."""

from __future__ import annotations

import re
from email.utils import getaddresses
from functools import cached_property

from webcrypt.mail.headertext import decode_bytes, decode_header_value, message_charset

SECURE_SUFFIX = "#secure"
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
"""An RFC 5322 dot-atom as a regular expression: the plain form of a local part or domain."""
HEADER_LINE = re.compile(rb"(?:From |[\x21-\x39\x3b-\x7e]*:|[ \t])[^\r\n]*(?:\r\n|\r|\n|\Z)")
"""One line of a header block, with its line end: a field, or the continuation of one.

What Python's email parser takes for a header line (its ``headerRE``), so that the filter
and the portal agree where a body starts. CRLF, a bare LF and a bare CR all end a line.
"""

_LINE = re.compile(r"[^\r\n]+(?:\r\n|\r|\n)?|\r\n|\r|\n")


def _body_start(raw: bytes) -> int:
    """Offset where the header block ends: the blank line goes with the body.

    The header block ends at the first line that is neither a field nor a continuation:
    usually the blank line, but some software starts the body right after the last field,
    and that line is the body's first, not part of a header.
    """
    position = 0
    match = HEADER_LINE.match(raw)
    while match is not None and match.end() > position:
        position = match.end()
        match = HEADER_LINE.match(raw, position)
    return position


def strip_secure(address: str) -> str:
    """Remove a trailing ``#secure`` (any case) from an address."""
    text = address.strip()
    bracketed = text.startswith("<") and text.endswith(">")
    if bracketed:
        text = text[1:-1].strip()
    if text.lower().endswith(SECURE_SUFFIX):
        text = text[: -len(SECURE_SUFFIX)]
    return f"<{text}>" if bracketed else text


def has_secure_suffix(address: str) -> bool:
    """Tell whether an address is written ``addr@domain#secure``."""
    return address.strip().strip("<>").strip().lower().endswith(SECURE_SUFFIX)


def domain_of(address: str) -> str:
    """Return the lower-cased domain of an address ("" when there is none)."""
    return strip_secure(address).strip("<>").rpartition("@")[2].strip().lower().rstrip(".")


class MailMessage:
    """Raw bytes plus lazily parsed headers; body bytes are never re-serialized."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.body_start = _body_start(raw)
        self.header_block = raw[: self.body_start]

    @property
    def body(self) -> bytes:
        """The bytes after the header block (a copy; `body_view` avoids it)."""
        return self.raw[self.body_start :]

    @property
    def body_view(self) -> memoryview:
        """The bytes after the header block, without copying them."""
        return memoryview(self.raw)[self.body_start :]

    @cached_property
    def _fields(self) -> dict[str, list[str]]:
        """The raw values of the fields by lower-cased name: the rules ask for several.

        Read the way Python's email parser reads them (compat32: the value after the colon
        and its blanks, continuation lines as written, without the last line end), but
        without its conversions, which fail on some mixes of 8-bit bytes: bytes that are
        not UTF-8 stay surrogate escapes.
        """
        fields: dict[str, list[str]] = {}
        text = self.header_block.decode("utf-8", "surrogateescape")
        current: list[str] = []
        for line in _LINE.findall(text):
            if line[:1] in (" ", "\t"):
                if current:  # a continuation before the first field belongs to none
                    current.append(line)
                continue
            if current:
                _store(fields, current)
            name, colon, _ = line.partition(":")
            # An mbox "From " line and a field without a name are no fields.
            current = [line] if colon and name and not line.startswith("From ") else []
        if current:
            _store(fields, current)
        return fields

    def get(self, name: str) -> str:
        """Return the raw value of the first `name` field, "" when absent."""
        values = self._fields.get(name.lower())
        return values[0] if values else ""

    def get_all(self, name: str) -> list[str]:
        """Return the raw values of every `name` field."""
        return list(self._fields.get(name.lower(), ()))

    @cached_property
    def subject(self) -> str:
        """The Subject decoded from RFC 2047 ("" when absent; raw text when undecodable).

        Never with surrogate escapes: text made of it (a carrier's Subject, a notice) can
        always be encoded.
        """
        value = self.get("Subject")
        fallback = None if value.isascii() else message_charset(self.raw)
        return without_surrogates(decode_text(value, fallback_charset=fallback))

    @cached_property
    def header_recipients(self) -> list[str]:
        """Addresses in To and Cc, as written (with any ``#secure`` suffix)."""
        fields = self.get_all("To") + self.get_all("Cc")
        try:
            pairs = getaddresses(fields)
        except Exception:  # malformed address lists must not stop the filter
            return []
        return [address for _, address in pairs if address]

    @property
    def message_id(self) -> str:
        """The Message-ID without angle brackets ("" when absent)."""
        return self.get("Message-ID").strip().strip("<>").strip()


_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def without_surrogates(text: str) -> str:
    """Return `text` with its undecodable bytes (surrogate escapes) decoded.

    Raw 8-bit header text that is not UTF-8 is nearly always in a Western legacy charset:
    the runs are read as `webcrypt.mail.headertext.decode_bytes` reads them (windows-1252).
    """
    if text.isascii() or not _ESCAPED_BYTES.search(text):
        return text
    return _ESCAPED_BYTES.sub(
        lambda run: decode_bytes(run.group().encode("utf-8", "surrogateescape")), text
    )


def _store(fields: dict[str, list[str]], lines: list[str]) -> None:
    name, _, value = "".join(lines).partition(":")
    fields.setdefault(name.lower(), []).append(value.lstrip(" \t").rstrip("\r\n"))


def decode_text(value: str, *, fallback_charset: str | None = None) -> str:
    """Decode a header field for display or matching (RFC 2047, raw UTF-8, legacy bytes).

    One line, white space collapsed; never raises (see `webcrypt.mail.headertext`).
    `fallback_charset` is the message's own charset, tried after UTF-8 for raw bytes.
    """
    return decode_header_value(value, fallback_charset=fallback_charset)
