"""Writing MIME mail: parts, multiparts, encoded and folded header fields, CRLF bytes.

The toolkit under the mails the gateway writes itself: carriers (`webcrypt.sealing.carrier`)
and notices (`webcrypt.notices`). Their texts come from `webcrypt.mail.rendering`.
"""

from __future__ import annotations

import binascii
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, make_msgid

from webcrypt.mail.message import domain_of, without_surrogates

MAX_7BIT_LINE = 998
"""The longest line SMTP carries (RFC 5321), without its CRLF."""

Buffer = bytes | bytearray | memoryview
SLICE = 1 << 20
"""The most a mail in pieces is copied at once when it is written out."""


class Chunks:
    """Bytes kept as the pieces they were made of: a mail is written out piece by piece.

    A large message then exists once (an attachment, a view of the received message, the
    sealed payload shared by every carrier) instead of once more per joined copy. Iterating
    yields the pieces in order (nested `Chunks` flattened); `len` is the joined length;
    `tobytes` joins them (a copy, for callers that need one object).
    """

    __slots__ = ("_length", "_parts")

    def __init__(self, parts: Iterable[Buffer | Chunks]) -> None:
        self._parts: tuple[Buffer | Chunks, ...] = tuple(parts)
        self._length = sum(len(part) for part in self._parts)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Buffer]:
        for part in self._parts:
            if isinstance(part, Chunks):
                yield from part
            elif part:
                yield part

    def tobytes(self) -> bytes:
        """Return the pieces joined into one bytes object."""
        return b"".join(self)

    def slices(self, size: int = SLICE) -> Iterator[bytes]:
        """Yield the joined bytes in order as bytes objects of at most `size` bytes.

        A bytes piece no longer than `size` is yielded as it is; larger and other pieces
        are copied a slice at a time.
        """
        for piece in self:
            if isinstance(piece, bytes) and len(piece) <= size:
                yield piece
                continue
            with memoryview(piece) as view:
                for offset in range(0, len(view), size):
                    yield view[offset : offset + size].tobytes()

    def contains(self, marker: bytes) -> bool:
        """Tell whether `marker` occurs in the joined bytes (also across two pieces)."""
        keep = len(marker) - 1
        tail = b""
        for piece in self.slices():
            if marker in piece or (keep and marker in tail + piece[:keep]):
                return True
            if keep:
                tail = piece[-keep:] if len(piece) >= keep else (tail + piece)[-keep:]
        return False


class CrlfLines(Chunks):
    """Pieces of LF-terminated lines, written with CRLF line ends one piece at a time.

    The pieces must hold no CR; the length counts the CR each line end gains.
    """

    __slots__ = ()

    def __init__(self, pieces: Iterable[bytes]) -> None:
        lines = tuple(pieces)
        super().__init__(lines)
        self._length += sum(piece.count(b"\n") for piece in lines)

    def __iter__(self) -> Iterator[Buffer]:
        for piece in self._parts:
            assert isinstance(piece, bytes)
            if piece:
                yield piece.replace(b"\n", b"\r\n")

    def contains(self, marker: bytes) -> bool:
        """Tell whether `marker` occurs; one without line ends is looked for unconverted."""
        if b"\r" in marker or b"\n" in marker:
            return super().contains(marker)
        return Chunks(self._parts).contains(marker)


def joined(data: bytes | Chunks) -> bytes:
    """Return `data` as one bytes object (joined when it comes in pieces)."""
    return data if isinstance(data, bytes) else data.tobytes()


@dataclass(frozen=True)
class Outgoing:
    """One mail to hand to the relay, with the envelope recipients it serves.

    `data` is the message, or a function that builds it when it is about to be relayed (so
    twenty carriers of a large message are not all held in memory at once). The message may
    come as `Chunks`: `content` hands them to the relay as they are, `build` joins them.
    """

    data: bytes | Chunks | Callable[[], bytes | Chunks]
    mail_from: str
    rcpt_tos: tuple[str, ...]
    kind: str
    crlf_only: bool = False
    """True when the relay must send the data as it is: every line ends in CRLF (as
    `serialize` guarantees), or the mail is passed on with the line ends it came with."""

    def content(self) -> bytes | Chunks:
        """Return the message, in pieces when it was made so (for the relay)."""
        return self.data if isinstance(self.data, bytes | Chunks) else self.data()

    def build(self) -> bytes:
        """Return the message bytes."""
        return joined(self.content())


@dataclass(frozen=True)
class Part:
    """A MIME entity: header fields and either an encoded CRLF-terminated body or sub-parts.

    Serializing yields chunks that are joined once, so a large attachment is copied once;
    a body given as `Chunks` is never joined.
    """

    headers: tuple[tuple[str, str], ...]
    body: bytes | Chunks = b""
    parts: tuple[Part, ...] = ()
    boundary: str = ""

    def chunks(self) -> Iterator[Buffer]:
        """Yield the serialized entity piece by piece."""
        return iter(self.serialized())

    def serialized(self) -> Chunks:
        """The serialized entity as `Chunks`; a body in `Chunks` is taken as it is."""
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers).encode() + b"\r\n"
        if not self.parts:
            return Chunks([head, self.body])
        marker = self.boundary.encode("ascii")
        pieces: list[Buffer | Chunks] = [head]
        for index, part in enumerate(self.parts):
            pieces.append((b"\r\n--" if index else b"--") + marker + b"\r\n")
            pieces.append(part.serialized())
        pieces.append(b"\r\n--" + marker + b"--\r\n")
        return Chunks(pieces)

    def contains(self, marker: bytes) -> bool:
        """Tell whether `marker` occurs anywhere in the entity."""
        body = self.body
        if body.contains(marker) if isinstance(body, Chunks) else marker in body:
            return True
        if any(marker in value.encode() for _, value in self.headers):
            return True
        return any(part.contains(marker) for part in self.parts)


def lf_lines(text: str) -> str:
    """Return `text` with LF line ends only (CRLF and a lone CR become LF)."""
    if "\r" not in text:  # the usual case, and far cheaper to find out than to replace
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def seven_bit(data: bytes) -> bool:
    """Tell whether LF-separated `data` may go out 7-bit: ASCII, no line over 998 bytes."""
    return data.isascii() and max(map(len, data.split(b"\n"))) <= MAX_7BIT_LINE


def seven_bit_lines(pieces: Iterable[bytes]) -> bool:
    """`seven_bit` for LF-separated data in pieces (a line may go on in the next piece)."""
    run = 0  # the length of the line begun in earlier pieces
    for piece in pieces:
        if not piece.isascii():
            return False
        lines = piece.split(b"\n")
        run += len(lines[0])
        if run > MAX_7BIT_LINE or max(map(len, lines)) > MAX_7BIT_LINE:
            return False
        if len(lines) > 1:
            run = len(lines[-1])
    return True


def text_part(text: str, subtype: str) -> Part:
    """A UTF-8 text part, quoted-printable (lines stay short and mostly readable).

    HTML goes out 7-bit instead when its lines are short enough: other characters become
    character references, so there is nothing to encode and the part is smaller.
    """
    text = lf_lines(text)
    if subtype == "html":
        ascii_html = text.encode("ascii", "xmlcharrefreplace")
        if seven_bit(ascii_html):
            return leaf_part(f'text/{subtype}; charset="us-ascii"', "7bit", ascii_html)
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return leaf_part(f'text/{subtype}; charset="utf-8"', "quoted-printable", encoded)


def leaf_part(content_type: str, encoding: str, body: bytes, *headers: tuple[str, str]) -> Part:
    """A part of an encoded body with LF line ends (sent with CRLF), plus extra fields."""
    body = body.replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    fields = (("Content-Type", content_type), ("Content-Transfer-Encoding", encoding))
    return Part((*fields, *headers), body)


def multipart(subtype: str, parts: Sequence[Part]) -> Part:
    """A multipart entity around `parts`, with a boundary none of them contains."""
    while True:
        boundary = f"=_{uuid.uuid4().hex}"
        if not any(part.contains(boundary.encode("ascii")) for part in parts):
            break
    content_type = f'multipart/{subtype}; boundary="{boundary}"'
    return Part((("Content-Type", content_type),), parts=tuple(parts), boundary=boundary)


MAX_HEADER_LINE = 78
"""The line length RFC 5322 asks header fields to keep to (998 is the hard limit)."""
_EW_OVERHEAD = len("=?utf-8?q??=")
_EW_PAYLOAD = 75 - _EW_OVERHEAD  # RFC 2047: an encoded-word is at most 75 characters
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
"""Characters Q encoding leaves as they are: safe in unstructured text and in phrases."""


def encode_header(value: str, name: str = "Subject") -> str:
    """Return the value of an unstructured header field, RFC 2047 encoded and folded.

    Lines stay within 78 characters, the first one counted with ``name: ``; they are
    folded between words. A word that is not printable ASCII, that looks like an
    encoded-word (so that text written that way survives), or that no line could hold, is
    written as UTF-8 encoded-words; neighbouring such words go into the same
    encoded-words, so the blanks between them, which decoders drop between encoded-words
    (RFC 2047 section 6.2), stay. Blank runs become one space. Undecodable bytes (surrogate
    escapes) are read as windows-1252. The result is ASCII; lines join with CRLF.
    """
    return _Folder(name).text(without_surrogates(value).split(), phrase=False)


def address_header(display_name: str, address: str, name: str = "From") -> str:
    """Return an address field value (``name <address>``), the name encoded when needed.

    A short printable ASCII name is quoted as `email.utils.formataddr` does; any other name
    becomes encoded-words (which a phrase may hold where quoted text may not be folded).
    The address is written as given (a non-ASCII address stays UTF-8, RFC 6532).
    """
    display_name = " ".join(without_surrogates(display_name).split())
    if not display_name:
        return address
    plain = formataddr((display_name, address))
    short = len(name) + 2 + len(plain) <= MAX_HEADER_LINE
    if short and plain.isascii() and plain.isprintable() and "=?" not in display_name:
        return plain
    folder = _Folder(name)
    encoded = folder.text(display_name.split(), phrase=True)
    return encoded + folder.separator(len(address) + 2) + f"<{address}>"


class _Folder:
    """Writes words and encoded-words into lines of at most 78 characters."""

    def __init__(self, name: str) -> None:
        self.column = len(name) + 1  # after "Name:"; each word brings its blank before it
        self.start = self.column
        self.pieces: list[str] = []

    def separator(self, width: int) -> str:
        """The blank (or fold) before a word `width` long; the column moves past the word."""
        if self.column + 1 + width > MAX_HEADER_LINE and self.column > self.start:
            self.column = 1 + width
            return "\r\n "
        self.column += 1 + width
        return " "

    def text(self, words: list[str], *, phrase: bool) -> str:
        """Write `words`; in a phrase every word is encoded (atoms cannot hold everything).

        In a phrase each word gets encoded-words of its own, with the blank after it inside:
        Python's address parser keeps the blanks between encoded-words of a phrase, so a
        word is only split when it is longer than one encoded-word.
        """
        if phrase:
            for index, word in enumerate(words):
                self._encoded(word if index == len(words) - 1 else word + " ")
            return "".join(self.pieces)[1:]
        run: list[str] = []
        for word in words:
            if not self._fits_plain(word, at_start=not self.pieces and not run):
                run.append(word)
                continue
            if run:
                self._encoded(" ".join(run))
                run = []
            self.pieces.append(self.separator(len(word)) + word)
        if run:
            self._encoded(" ".join(run))
        return "".join(self.pieces)[1:]  # the caller writes "Name: "

    def _fits_plain(self, word: str, *, at_start: bool) -> bool:
        if not (word.isascii() and word.isprintable()) or "=?" in word:
            return False
        room = MAX_HEADER_LINE - (self.column if at_start else 0) - 1
        return len(word) <= room

    def _encoded(self, text: str) -> None:
        """Write `text` as UTF-8 encoded-words, each holding whole characters."""
        data = text.encode("utf-8")
        base64 = _q_length(data) > _b_length(len(data))
        measure = _b_length if base64 else None
        chunk: list[str] = []
        size = 0  # base64: bytes in the chunk; Q: its encoded length
        for char in text:
            encoded = char.encode("utf-8")
            grown = size + (len(encoded) if base64 else _q_length(encoded))
            if chunk and (measure(grown) if measure else grown) > self._room():
                self._word("".join(chunk), base64=base64)
                chunk = []
                grown -= size
            chunk.append(char)
            size = grown
        if chunk:
            self._word("".join(chunk), base64=base64)

    def _room(self) -> int:
        """Payload that fits in the next encoded-word: the rest of this line, or a new one."""
        rest = MAX_HEADER_LINE - self.column - 1 - _EW_OVERHEAD
        if rest < 8 and self.column > self.start:
            rest = MAX_HEADER_LINE - 1 - 1 - _EW_OVERHEAD  # it goes on a new line
        return max(min(rest, _EW_PAYLOAD), 8)

    def _word(self, text: str, *, base64: bool) -> None:
        data = text.encode("utf-8")
        if base64:
            payload = binascii.b2a_base64(data, newline=False).decode("ascii")
            word = f"=?utf-8?b?{payload}?="
        else:
            payload = "".join(
                "_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in data
            )
            word = f"=?utf-8?q?{payload}?="
        self.pieces.append(self.separator(len(word)) + word)


def _q_length(data: bytes) -> int:
    """Length of `data` in RFC 2047 Q encoding."""
    return sum(1 if b in _Q_SAFE or b == 0x20 else 3 for b in data)


def _b_length(size: int) -> int:
    """Length of `size` bytes in base64."""
    return (size + 2) // 3 * 4


def readable_body(text: str, html: str | None = None) -> Part:
    """The readable part of a mail: plain text, with an HTML alternative when given."""
    body = text_part(text, "plain")
    if html is not None:
        body = multipart("alternative", [body, text_part(html, "html")])
    return body


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Part] = (),
    headers: Iterable[tuple[str, str]] = (),
    now: datetime | None = None,
) -> bytes:
    """Build a MIME mail (text, optional HTML alternative, attachments) as CRLF bytes.

    `sender` and `to` are ready-made header values; `headers` are extra raw header fields.
    """
    body = readable_body(text, html)
    if attachments:
        body = multipart("mixed", [body, *attachments])
    mail = serialize(sender=sender, to=to, subject=subject, body=body, headers=headers, now=now)
    return mail.tobytes()


def serialize(
    *,
    sender: str,
    to: str,
    subject: str,
    body: Part,
    headers: Iterable[tuple[str, str]] = (),
    now: datetime | None = None,
) -> Chunks:
    """Put the top header fields (Date and Message-ID made here) on a MIME body.

    The mail comes as CRLF pieces: a large body is not copied (`Chunks.tobytes` joins them).
    """
    date = format_datetime(now) if now is not None else format_datetime_now()
    domain = domain_of(sender.rpartition("<")[2].strip(">")) or None
    top = [
        ("From", sender),
        ("To", to),
        ("Subject", encode_header(subject)),
        ("Date", date),
        ("Message-ID", make_msgid(domain=ascii_domain(domain))),
        *headers,
    ]
    # Address fields are written as given: a non-ASCII address stays UTF-8 (RFC 6532).
    head = "".join(fold(name, value) for name, value in top) + "MIME-Version: 1.0\r\n"
    # A line end inside a value taken from elsewhere (a References field) becomes CRLF
    # too: every line of the result ends in CRLF, as `Outgoing.crlf_only` promises.
    head = lf_lines(head).replace("\n", "\r\n")
    return Chunks([head.encode("utf-8"), body.serialized()])


def fold(name: str, value: str, width: int = 78) -> str:
    """Return one header field, whitespace-folded to about `width` columns, CRLF-terminated."""
    if "\r\n" in value:  # already encoded and folded
        return f"{name}: {value}\r\n"
    words = value.split()
    lines, current = [], f"{name}:"
    for word in words:
        if len(current) + 1 + len(word) > width and current.strip() != f"{name}:":
            lines.append(current)
            current = f" {word}"
        else:
            current = f"{current} {word}"
    lines.append(current)
    return "\r\n".join(lines) + "\r\n"


_HOSTNAME = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def ascii_domain(domain: str | None) -> str | None:
    """Return `domain` as an ASCII host name (IDNA) for a Message-ID, None when it is none."""
    if not domain:
        return None
    try:
        ascii_name = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return ascii_name if _HOSTNAME.fullmatch(ascii_name) else None


def format_datetime_now() -> str:
    """Return the current time as an RFC 5322 date."""
    return format_datetime(datetime.now(UTC))
