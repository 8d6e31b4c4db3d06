"""ASCII armor: BEGIN/END lines around two base64 blocks wrapped at 76 columns."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import errors
from .errors import DecryptionError, EnvelopeFormatError

BEGIN = "-----BEGIN WEBCRYPT ENVELOPE-----"
SEPARATOR = "-----WEBCRYPT PAYLOAD-----"
END = "-----END WEBCRYPT ENVELOPE-----"
LINE = 76
_LINE_BYTES = LINE // 4 * 3
_ENCODE_BLOCK = _LINE_BYTES * 2048
_DECODE_WINDOW = 1 << 18
_WHITESPACE = " \t\r\n"


class Base64Lines:
    """Base64-encode a byte stream into LF-terminated lines of 76 characters.

    Input is encoded in large line-aligned pieces with `base64.b64encode`
    (much faster than `encodebytes`) and split into lines here; each piece is kept
    as ASCII bytes of whole lines, so the encoded stream is never joined into one
    object: `pieces` hands it on as it is.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._parts: list[bytes] = []

    def _encode(self, data: bytes | bytearray | memoryview) -> None:
        encoded = base64.b64encode(data)
        lines = [encoded[i : i + LINE] for i in range(0, len(encoded), LINE)]
        lines.append(b"")
        self._parts.append(b"\n".join(lines))

    def feed(self, data: bytes) -> None:
        """Add bytes to encode."""
        self._pending += data
        if len(self._pending) >= _ENCODE_BLOCK:
            usable = len(self._pending) - len(self._pending) % _LINE_BYTES
            with memoryview(self._pending) as view:
                self._encode(view[:usable])
            del self._pending[:usable]

    def pieces(self) -> list[bytes]:
        """Encode what is left and return the lines in pieces (ASCII, each ends with LF)."""
        if self._pending:
            self._encode(self._pending)
            self._pending = bytearray()
        parts, self._parts = self._parts, []
        return parts

    def finish(self) -> str:
        """Encode what is left and return all lines as one string."""
        return b"".join(self.pieces()).decode("ascii")


def encode_block(data: bytes) -> str:
    """Return `data` as wrapped base64 lines."""
    lines = Base64Lines()
    lines.feed(data)
    return lines.finish()


def assemble(header_block: str, payload_block: str) -> str:
    """Put a header block and a payload block between the armor lines."""
    return "".join((BEGIN, "\n", header_block, SEPARATOR, "\n", payload_block, END, "\n"))


def assemble_pieces(
    header_block: str, payload: Sequence[bytes], *, final_newline: bool = True
) -> list[bytes]:
    """The armored envelope as ASCII pieces: the same bytes `assemble` writes, not joined.

    Without `final_newline` the line end after the END line is left out.
    """
    head = f"{BEGIN}\n{header_block}{SEPARATOR}\n".encode("ascii")
    end = f"{END}\n" if final_newline else END
    return [head, *payload, end.encode("ascii")]


@dataclass(frozen=True)
class Located:
    """Where the two blocks of an armored envelope are in its text."""

    header: bytes
    payload_start: int
    payload_end: int


def _is_blank(text: str, start: int, end: int) -> bool:
    return not text[start:end].strip()


def locate(text: str) -> Located:
    """Find the blocks in armored text and decode the header block.

    Raises EnvelopeFormatError when the text is not exactly one envelope.
    """
    begin = text.find(BEGIN)
    if begin < 0 or not _is_blank(text, 0, begin):
        raise EnvelopeFormatError(errors.NOT_AN_ENVELOPE)
    header_start = begin + len(BEGIN)
    separator = text.find(SEPARATOR, header_start)
    end = text.find(END, max(separator, header_start))
    if separator < 0 or end < 0:
        raise EnvelopeFormatError(errors.INCOMPLETE)
    if not _is_blank(text, end + len(END), len(text)):
        raise EnvelopeFormatError(errors.MALFORMED)
    try:
        header = b"".join(decode_lines(text, header_start, separator))
    except DecryptionError:
        raise EnvelopeFormatError(errors.MALFORMED) from None
    return Located(header, separator + len(SEPARATOR), end)


def _strip_whitespace(text: str) -> str:
    # `in` looks with memchr; `replace` counts first even when nothing is there.
    for blank in _WHITESPACE:
        if blank in text:
            text = text.replace(blank, "")
    return text


def decoded_length(text: str, start: int, end: int) -> int:
    """Return the byte length of the base64 block in text[start:end] without decoding it."""
    # Counting is slower than finding: count only the blanks that are there at all.
    blanks = sum(
        text.count(char, start, end) for char in _WHITESPACE if text.find(char, start, end) >= 0
    )
    characters = end - start - blanks
    if characters <= 0 or characters % 4:
        raise DecryptionError()
    tail = _strip_whitespace(text[max(start, end - 64) : end])
    padding = len(tail) - len(tail.rstrip("="))
    if padding > 2:
        raise DecryptionError()
    return characters // 4 * 3 - padding


def decode_lines(text: str, start: int, end: int) -> Iterator[bytes]:
    """Decode the base64 block in text[start:end] piece by piece.

    Whitespace between characters is ignored; anything else outside the base64
    alphabet, and padding before the end, raises DecryptionError.
    """
    carry = ""
    padded = False
    for position in range(start, end, _DECODE_WINDOW):
        window = carry + _strip_whitespace(text[position : min(position + _DECODE_WINDOW, end)])
        usable = len(window) - len(window) % 4
        carry = window[usable:]
        if not usable:
            continue
        if padded:
            raise DecryptionError()
        try:
            yield binascii.a2b_base64(window[:usable], strict_mode=True)
        except binascii.Error:
            raise DecryptionError() from None
        padded = window[usable - 1] == "="
    if carry:
        raise DecryptionError()
