"""A read-only view of a raw RFC 5322 message that never raises on malformed headers."""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import Parser
from email.utils import getaddresses
from functools import cached_property

from webcrypt.headertext import decode_header_value

SECURE_SUFFIX = "#secure"
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
"""An RFC 5322 dot-atom as a regular expression: the plain form of a local part or domain."""
_SEPARATOR = re.compile(rb"\r?\n\r?\n")


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """Split raw bytes into the header block (with its line end) and the rest."""
    start = _body_start(raw)
    return raw[:start], raw[start:]


def _body_start(raw: bytes) -> int:
    """Offset where the header block ends: the blank line goes with the body."""
    if raw.startswith((b"\r\n", b"\n")):
        return 0
    match = _SEPARATOR.search(raw)
    if match is None:
        return len(raw)
    return raw.index(b"\n", match.start()) + 1


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
    def headers(self) -> Message:
        """Header fields parsed leniently (compat32: keeps the raw text of each field)."""
        text = self.header_block.decode("utf-8", "surrogateescape")
        return Parser(policy=policy.compat32).parsestr(text, headersonly=True)

    @cached_property
    def _fields(self) -> dict[str, list[str]]:
        """The raw values of the fields by lower-cased name: the rules ask for several."""
        fields: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            fields.setdefault(name.lower(), []).append(str(value))
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
        """The Subject decoded from RFC 2047 ("" when absent; raw text when undecodable)."""
        return decode_text(self.get("Subject"))

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


def decode_text(value: str) -> str:
    """Decode a header field for display or matching (RFC 2047, raw UTF-8, legacy bytes).

    One line, white space collapsed; never raises (see `webcrypt.headertext`).
    """
    return decode_header_value(value)
