"""Limits on the MIME structure of a message, checked by one linear scan of its bytes.

The filter checks triggered mail against them at SMTP time, before anything expensive
happens, and the portal checks an upload and a decrypted message before parsing it. The
scan uses no email parser and no recursion: the enclosing multiparts are an explicit stack
of their boundaries, so a message nested thousands of levels deep costs one pass over its
bytes and stops at the first limit it breaks.

It reads structure the way Python's email parser (and so the portal) does: CRLF, a bare LF
and a bare CR all end a line; a header block ends at the first line that is neither a field
nor a continuation; a boundary line of any enclosing multipart ends the part it is in; an
unquoted ``boundary=----=_NextPart_...`` is taken whole, up to the ``;``; ``message/*``
parts (but ``message/delivery-status``) hold a message one level deeper, as do the parts of
``multipart/digest`` that have no Content-Type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webcrypt.errors import ContentError
from webcrypt.mail.message import HEADER_LINE

if TYPE_CHECKING:
    from webcrypt.config.loader import Config

KIB = 1024


@dataclass(frozen=True)
class MimeLimits:
    """How much MIME structure a message may have (see docs/configuration.md, [limits])."""

    max_depth: int = 50
    """Levels of multipart and message/* parts a part may be inside of."""
    max_parts: int = 1000
    """MIME entities in the whole message: the message itself, containers and leaves."""
    max_header_bytes: int = 256 * KIB
    """Size of the header block of any one part (the message's own header included)."""
    max_line_length: int = 64 * KIB
    """Size of one header field with its continuation lines; body lines are not limited
    (real mail has single-line bodies of a megabyte and more)."""

    @classmethod
    def from_config(cls, config: Config) -> MimeLimits:
        """The limits of the ``[limits]`` section of the configuration."""
        section = config.limits
        return cls(
            max_depth=int(section.max_depth),
            max_parts=int(section.max_parts),
            max_header_bytes=int(section.max_header_bytes),
            max_line_length=int(section.max_line_length),
        )


class MimeLimitError(ContentError):
    """A message breaks a limit; the text says which, by how much, and what is allowed."""

    cause = "limits"

    def __init__(self, limit: str, what: str, maximum: int) -> None:
        super().__init__(f"The message {what}; at most {maximum} allowed (limits.{limit}).")
        self.limit = limit
        self.maximum = maximum


_DASHES = re.compile(rb"--")
_LINE_START_DASHES = re.compile(rb"[\r\n]--")
_REST_OF_LINE = re.compile(rb"[^\r\n]*")


_SINGLE_DASHES = 16
"""Single dashes passed one by one before the search for two takes over."""


def _double_dash(raw: bytes, position: int) -> int:
    """Where the first ``--`` at or after `position` starts (-1: none).

    A single dash is found with memchr, many times faster than a regular expression
    passes over a base64 body (which has no dashes); after a few single dashes (text
    with hyphens) the regular expression takes over, so no input makes this slow.
    """
    start = raw.find(b"-", position)
    for _ in range(_SINGLE_DASHES):
        if start < 0 or raw[start + 1 : start + 2] == b"-":
            return start
        start = raw.find(b"-", start + 1)
    match = _DASHES.search(raw, start) if start >= 0 else None
    return match.start() if match else -1


@dataclass
class _Level:
    """One enclosing entity: a multipart with its boundary, or a message/* part (None)."""

    boundary: bytes | None
    digest: bool = False


def check(raw: bytes, limits: MimeLimits) -> None:
    """Raise `MimeLimitError` at the first limit `raw` breaks; return when it keeps them all."""
    _Scan(raw, limits).run()


class _Scan:
    def __init__(self, raw: bytes, limits: MimeLimits) -> None:
        self.raw = raw
        self.limits = limits
        self.stack: list[_Level] = []
        self.boundaries: dict[bytes, list[int]] = {}  # boundary -> the levels that have it
        self.parts = 0

    def run(self) -> None:
        position = 0
        while True:
            if len(self.stack) > self.limits.max_depth:
                raise MimeLimitError(
                    "max_depth",
                    f"nests MIME parts more than {self.limits.max_depth} levels deep",
                    self.limits.max_depth,
                )
            self.parts += 1
            if self.parts > self.limits.max_parts:
                raise MimeLimitError(
                    "max_parts",
                    f"has more than {self.limits.max_parts} MIME parts",
                    self.limits.max_parts,
                )
            parent_digest = bool(self.stack) and self.stack[-1].digest
            body, content_type, boundary = self._header(position)
            if content_type is None:
                content_type = "message/rfc822" if parent_digest else "text/plain"
            if content_type.startswith("multipart/") and boundary:
                self._push(_Level(boundary, digest=content_type == "multipart/digest"))
            elif content_type.startswith("message/") and content_type != (
                "message/delivery-status"
            ):
                self._push(_Level(None))
                position = body  # the attached message's header starts right here
                continue
            next_part = self._next_part(body)
            if next_part is None:
                return
            position = next_part

    def _push(self, level: _Level) -> None:
        self.stack.append(level)
        if level.boundary is not None:
            self.boundaries.setdefault(level.boundary, []).append(len(self.stack) - 1)

    def _cut(self, size: int) -> None:
        """Leave the levels from `size` on: the parts they held have ended."""
        while len(self.stack) > size:
            boundary = self.stack.pop().boundary
            if boundary is not None:
                levels = self.boundaries[boundary]
                levels.pop()
                if not levels:
                    del self.boundaries[boundary]

    def _delimiter(self, text: bytes) -> tuple[int, bool] | None:
        """The level whose boundary line `text` (after the dashes) is, and if it closes it.

        The innermost level with that boundary, as Python's parser matches them.
        """
        stripped = text.rstrip(b" \t")
        levels = self.boundaries.get(stripped)
        if levels:
            return levels[-1], False
        if stripped.endswith(b"--"):
            levels = self.boundaries.get(stripped[:-2])
            if levels:
                return levels[-1], True
        return None

    def _dashes(self, position: int) -> int:
        """Where the next line at or after `position` starts with two dashes (-1: none).

        A search for the dashes alone passes over a base64 attachment fastest; only when
        they turn up inside a line does the slower search for line-start dashes take over,
        from there on. Either way every byte is looked at a bounded number of times, and
        each line that starts with dashes costs one look-up, however many multiparts
        enclose it (a search per boundary would not be linear).
        """
        raw = self.raw
        start = _double_dash(raw, position)
        if start < 0:
            return -1
        if start == 0 or raw[start - 1] in b"\r\n":
            return start
        match = _LINE_START_DASHES.search(raw, start)
        return match.start() + 1 if match else -1

    def _next_part(self, position: int) -> int | None:
        """Skip to where the next part's header starts; None at the end of the message."""
        raw = self.raw
        while self.boundaries:
            start = self._dashes(position)
            if start < 0:
                return None
            match = _REST_OF_LINE.match(raw, start + 2)
            assert match is not None  # it matches the empty string
            position = _after_line_end(raw, match.end())
            found = self._delimiter(match.group())
            if found is None:
                continue  # a line that only begins like a boundary
            index, closing = found
            if closing:
                self._cut(index)  # that multipart ended; what follows is its epilogue
                continue
            self._cut(index + 1)
            return position
        return None

    def _header(self, position: int) -> tuple[int, str | None, bytes | None]:
        """Measure the header block at `position`: where its body starts, type, boundary."""
        raw = self.raw
        limits = self.limits
        start = position
        field_start = position
        content_type: bytes | None = None
        match = HEADER_LINE.match(raw, position)
        while match is not None and match.end() > position:
            line = match.group()
            if line.startswith(b"--") and self._delimiter(line[2:].rstrip(b"\r\n")):
                break  # a boundary ends the part even inside its header
            if line[0] not in b" \t":
                if content_type is None and field_start < position:
                    content_type = _content_type_field(raw[field_start:position])
                field_start = position
            position = match.end()
            if position - field_start > limits.max_line_length:
                raise MimeLimitError(
                    "max_line_length",
                    f"has a header field longer than {limits.max_line_length} bytes",
                    limits.max_line_length,
                )
            if position - start > limits.max_header_bytes:
                raise MimeLimitError(
                    "max_header_bytes",
                    f"has a header block larger than {limits.max_header_bytes} bytes",
                    limits.max_header_bytes,
                )
            match = HEADER_LINE.match(raw, position)
        if content_type is None and field_start < position:
            content_type = _content_type_field(raw[field_start:position])
        body = _after_line_end(raw, position)  # the blank line that ends the header, if any
        if content_type is None:
            return body, None, None
        return body, *_parse_content_type(content_type)


def _after_line_end(raw: bytes, position: int) -> int:
    """The offset after the line end at `position` (CRLF, LF or CR), or `position` at the end."""
    if raw.startswith(b"\r\n", position):
        return position + 2
    if raw.startswith((b"\r", b"\n"), position):
        return position + 1
    return position


_CONTENT_TYPE = re.compile(rb"content-type[ \t]*:", re.IGNORECASE)


def _content_type_field(field: bytes) -> bytes | None:
    """The value of `field` when it is a Content-Type field."""
    match = _CONTENT_TYPE.match(field)
    return field[match.end() :] if match else None


def _parse_content_type(value: bytes) -> tuple[str, bytes | None]:
    """The type (lower case; text/plain when it is not type/subtype) and boundary."""
    text = re.sub(rb"[\r\n]", b"", value)
    kind, _, parameters = text.partition(b";")
    content_type = kind.strip().lower().decode("latin-1")
    if content_type.count("/") != 1:
        content_type = "text/plain"
    for parameter in _split_parameters(parameters):
        name, equals, boundary = parameter.partition(b"=")
        if equals and name.strip().lower() == b"boundary":
            boundary = boundary.strip()
            quoted = _QUOTED.match(boundary)
            if quoted:
                boundary = re.sub(rb"\\(.)", rb"\1", quoted.group(1))
            return content_type, boundary or None
    return content_type, None


_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*)')
_QUOTED_OR_SEMICOLON = re.compile(rb'"(?:[^"\\]|\\.)*"?|;')


def _split_parameters(text: bytes) -> list[bytes]:
    """Cut a parameter list at the semicolons outside quoted strings (as email.message does)."""
    parameters, start = [], 0
    for match in _QUOTED_OR_SEMICOLON.finditer(text):
        if match.group() == b";":
            parameters.append(text[start : match.start()])
            start = match.end()
    parameters.append(text[start:])
    return parameters
