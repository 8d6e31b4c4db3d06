"""Turn a decrypted message into what the read page shows: headers, bodies, attachments.

The MIME tree is split on the raw bytes, without recursion: every part keeps its place in
the original (header block and body offsets), so a download is the part's body exactly as
it stands in the message, decoded only by its Content-Transfer-Encoding — also for
message/* parts, which are never re-serialized. Header fields are parsed leniently
(compat32: raw bytes kept, parameters such as Outlook's unquoted
``boundary=----=_NextPart_...`` read the way mail clients read them).

What is shown: every text/plain and text/html part in document order that is not meant as
a file (no ``Content-Disposition: attachment``, no file name); of a multipart/alternative
only the best alternative (HTML before plain text). Everything else is offered for
download. A part that cannot be rendered gets a line saying so, and stays downloadable.

Parts are numbered in one fixed walk over the MIME tree (leaves in document order; an
attached message counts as one leaf), so a download request that names part "3" (or
"3.1" for the first file inside a winmail.dat) finds the same part when the same
ciphertext is opened again.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
import quopri
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from functools import cached_property
from itertools import pairwise
from typing import Any, Literal

from portal.sanitize import INLINE_IMAGE_TYPES, clean_html, content_id_key
from webcrypt.mail.headertext import codec_for, decode_bytes, decode_header_value

log = logging.getLogger(__name__)

#: Inline images larger than this are listed as attachments instead of being inlined.
MAX_INLINE_IMAGE = 5 * 1024 * 1024
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
SHOWN_TYPES = frozenset({"text/plain", "text/html"})
OCTET_STREAM = "application/octet-stream"
_TOKEN_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]*:|[ \t]|From ")
_LINE_END = re.compile(rb"\r\n|\r|\n")


class _RawHeaders(Compat32):
    """compat32, but a field comes back as written (8-bit bytes kept as surrogates).

    compat32 hands out a field with 8-bit bytes as a Header that turns them into U+FFFD;
    header text is decoded in one place instead (`webcrypt.mail.headertext`).
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        """Return the field's value unchanged."""
        return value


_HEADERS = BytesParser(policy=_RawHeaders())


@dataclass
class Part:
    """One node of the MIME tree: its parsed header fields and where its body lies."""

    headers: Message
    start: int  # offset of the body in the message
    end: int
    part_id: str = ""  # leaves only
    children: list[Part] = field(default_factory=list)
    in_alternative: bool = False  # inside an alternative that is not shown

    @property
    def content_type(self) -> str:
        """The part's type/subtype as given (lower case; text/plain when absent)."""
        return str(self.headers.get_content_type())

    @property
    def is_leaf(self) -> bool:
        """Whether the part is a leaf: anything but a multipart with found parts."""
        return not self.children


@dataclass(frozen=True)
class Tree:
    """A parsed message: the raw bytes and its parts in document order."""

    raw: bytes
    parts: list[Part]  # every node, parents before children (pre-order)

    @property
    def root(self) -> Part:
        """The top-level part (the message itself)."""
        return self.parts[0]

    def leaves(self) -> list[Part]:
        """The leaf parts in document order."""
        return [part for part in self.parts if part.is_leaf]

    def leaf(self, part_id: str) -> Part | None:
        """Return the leaf numbered `part_id`, or None."""
        return next((part for part in self.parts if part.part_id == part_id), None)

    def body(self, part: Part) -> bytes:
        """The raw bytes of a part's body, as they stand in the message."""
        return self.raw[part.start : part.end]

    def decoded(self, part: Part) -> bytes:
        """The body of a leaf decoded by its Content-Transfer-Encoding."""
        return decode_transfer(self.body(part), _cte(part.headers))

    def decoded_size(self, part: Part) -> int:
        """The decoded size of a leaf, as the page shows it.

        base64 is measured in place, not decoded: exactly for up to a megabyte, and from
        the first line's length beyond (mail clients wrap base64 in equal lines).
        """
        if _cte(part.headers) != "base64":
            return len(self.decoded(part))
        start, end = part.start, part.end
        tail = self.raw[max(start, end - 256) : end]
        kept = tail.rstrip()
        end -= len(tail) - len(kept)
        padding = len(kept) - len(kept.rstrip(b"="))
        first = _LINE_END.search(self.raw, start, end)
        if end - start > 2**20 and first is not None and first.start() > start:
            line = first.end() - start
            breaks = (end - start) // line * (first.end() - first.start())
        else:
            breaks = self.raw.count(b"\n", start, end) + self.raw.count(b"\r", start, end)
        return max(0, (end - start - breaks) * 3 // 4 - padding)

    @cached_property
    def charset(self) -> str | None:
        """The message's own charset: the first usable charset= parameter in it."""
        for part in self.parts:
            charset = _charset(part.headers)
            if codec_for(charset) is not None:
                return charset
        return None


@dataclass(frozen=True)
class Attachment:
    """A file of the message, offered for download."""

    part_id: str
    filename: str
    content_type: str
    size: int
    charset: str = ""  # the declared charset of a text file (sent with its download)


@dataclass(frozen=True)
class Body:
    """One part shown in the page: plain text, sanitized HTML, or a line saying it failed."""

    part_id: str
    kind: Literal["text", "html", "failed"]
    content: str = ""
    blocked_remote: int = 0


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
    text: str | None = None  # the first plain text (what a reply quotes)
    html: str | None = None  # the first HTML shown, sanitized
    blocked_remote: int = 0
    bodies: list[Body] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


def parse(raw: bytes) -> Tree:
    """Split message bytes into its MIME tree; never raises, never recurses."""
    root = _part(raw, 0, len(raw))
    parts: list[Part] = []
    stack = [root]
    counter = 0
    while stack:
        part = stack.pop()
        parts.append(part)
        if part.headers.get_content_maintype() == "multipart":
            part.children = _children(raw, part)
        if part.children:
            stack.extend(reversed(part.children))
        else:
            counter += 1
            part.part_id = str(counter)
    return Tree(raw, parts)


def _part(raw: bytes, start: int, end: int, digest: bool = False) -> Part:
    """Parse the header block of the part in raw[start:end]."""
    body_start = header_end = start
    position = start
    while position < end:
        found = _LINE_END.search(raw, position, end)
        line_end = found.end() if found else end
        if found is not None and found.start() == position:  # the blank line
            header_end, body_start = position, line_end
            break
        if not _HEADER_LINE.match(raw, position, line_end):
            header_end = body_start = position  # no blank line: the body starts here
            break
        position = header_end = body_start = line_end
    headers = _HEADERS.parsebytes(raw[start:header_end], headersonly=True)
    if digest:
        headers.set_default_type("message/rfc822")
    return Part(headers, body_start, end)


def _children(raw: bytes, part: Part) -> list[Part]:
    """Split a multipart body at its boundary lines ([] when none is found).

    A boundary line is ``--boundary`` (``--boundary--`` closes) with optional blanks
    after it, alone on its line; the line end before it belongs to the boundary, as
    RFC 2046 and the email package have it. An outer boundary ends every inner part
    because the inner body is cut out of the outer part first.
    """
    try:
        boundary = part.headers.get_boundary()
    except Exception:  # a parameter the parser cannot read: the part stays a leaf
        return []
    if not boundary:
        return []
    delimiter = b"--" + boundary.encode("utf-8", "surrogateescape")
    cuts: list[tuple[int, int]] = []  # (where the part before ends, where the next begins)
    closed = False
    position = max(part.start - 1, 0)  # the line end before the body: a boundary may open it
    while not closed:
        line = _boundary_line(raw, delimiter, position, part.end)
        if line is None:
            break
        before, found = line
        position = found.start(2)  # a boundary line's line end may precede the next one
        if before > part.start and raw[before - 1 : before + 1] == b"\r\n":
            before -= 1  # CRLF before the boundary line
        cuts.append((max(before, part.start), found.end()))
        closed = found.group(1) is not None
    if len(cuts) - closed < 1:
        if cuts:  # only a closing line: what comes before it is the (broken) part's body
            part.end = cuts[0][0]
        return []
    digest = part.content_type == "multipart/digest"
    children = [
        _part(raw, begin, following, digest)
        for (_, begin), (following, _) in pairwise(cuts)
        if following >= begin  # not when one line end closes a boundary line and opens the next
    ]
    if not closed:
        # The last part runs to the end of this one; at the end of the message it loses
        # its last line end, as if a boundary line followed (one line end only, once).
        begin, end = cuts[-1][1], part.end
        if end == len(raw) and raw.endswith(b"\r\n", begin, end):
            end -= 2
        elif end == len(raw) and raw.endswith((b"\r", b"\n"), begin, end):
            end -= 1
        children.append(_part(raw, begin, end, digest))
    return children


_BOUNDARY_REST = re.compile(rb"(--)?[ \t]*(\r\n|\r|\n|\Z)")


def _boundary_line(
    raw: bytes, delimiter: bytes, start: int, end: int
) -> tuple[int, re.Match[bytes]] | None:
    """The first boundary line in raw[start:end] that a line end at or after `start` opens.

    Returns where that line end is, and the match of what follows the delimiter (closing
    dashes, blanks, the line end). The delimiter is found with `bytes.find`, which passes over
    a large base64 body many times faster than a regular expression does.
    """
    position = start + 1
    while (hit := raw.find(delimiter, position, end)) >= 0:
        if raw[hit - 1] in b"\r\n":
            rest = _BOUNDARY_REST.match(raw, hit + len(delimiter), end)
            if rest is not None:
                return hit - 1, rest
        position = hit + 1
    return None


def _cte(headers: Message) -> str:
    return str(headers.get("Content-Transfer-Encoding", "")).strip().lower()


def decode_transfer(body: bytes, cte: str) -> bytes:
    """Decode a body by its Content-Transfer-Encoding as the email package does."""
    if cte == "base64":
        try:
            return binascii.a2b_base64(body)
        except (binascii.Error, ValueError):
            pass  # missing padding and the like: the email package's lenient decoder
    elif cte == "quoted-printable":
        return quopri.decodestring(body)
    elif cte not in ("x-uuencode", "uuencode", "uue", "x-uue"):
        return body
    message = Message()
    message["Content-Transfer-Encoding"] = cte
    message.set_payload(body.decode("ascii", "surrogateescape"))
    data = message.get_payload(decode=True)
    return data if isinstance(data, bytes) else body


ParamValue = str | tuple[str | None, str | None, str] | None
"""A header parameter: its text, (charset, language, text) when RFC 2231-encoded, or None."""


def _param(headers: Message, name: str, header: str = "content-type") -> ParamValue:
    try:
        value: ParamValue = headers.get_param(name, header=header)
    except Exception:  # a parameter list the parser cannot read
        return None
    return value


def _charset(headers: Message) -> str | None:
    """The charset parameter of the Content-Type; of an RFC 2231-encoded one, its text."""
    value = _param(headers, "charset")
    return collapse_rfc2231_value(value) if isinstance(value, tuple) else value


def _raw_header(headers: Message, name: str) -> str:
    value = headers.get(name)
    return "" if value is None else str(value)


def _header(headers: Message, name: str, charset: str | None) -> str:
    return decode_header_value(_raw_header(headers, name), fallback_charset=charset)


def clean_type(content_type: str) -> str:
    """Return `content_type` when it is a plain ASCII type/subtype, else octet-stream."""
    return content_type if _TOKEN_TYPE.fullmatch(content_type) else OCTET_STREAM


def part_filename(headers: Message, charset: str | None = None) -> str:
    """Return the decoded file name of a part ("" when it has none)."""
    value = _param(headers, "filename", "content-disposition") or _param(headers, "name")
    if not value:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
        declared, _language, text = value
        data = str(text).encode("latin-1", "surrogateescape")
        return " ".join(decode_bytes(data, declared, charset).split())
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return decode_header_value(text, fallback_charset=charset)


def _is_attachment(part: Part) -> bool:
    disposition = str(part.headers.get("Content-Disposition", "")).split(";", 1)[0]
    if disposition.strip().lower() == "attachment":
        return True
    return _param(part.headers, "filename", "content-disposition") is not None or (
        _param(part.headers, "name") is not None
    )


def _body_type(part: Part) -> str:
    """The type a leaf is shown as: a multipart whose parts cannot be found is plain text
    (its boundary is missing or wrong: the reader still sees what was written)."""
    kind = part.content_type
    return "text/plain" if kind.startswith("multipart/") else kind


def _is_body(part: Part) -> bool:
    """Whether a leaf is text to read (shown unless it is a rejected alternative)."""
    return _body_type(part) in SHOWN_TYPES and not _is_attachment(part)


def _shown(part: Part) -> bool:
    """Whether a leaf is a body to show (and not a file or a rejected alternative)."""
    return _is_body(part) and not part.in_alternative


def _mark_alternatives(tree: Tree) -> None:
    """Mark the parts of every alternative except the best one (HTML before plain text).

    The last alternative with HTML wins, else the last with plain text (RFC 2046 puts the
    richest last); non-text files of the others stay downloadable.
    """
    has_html: dict[int, bool] = {}
    has_text: dict[int, bool] = {}
    for part in reversed(tree.parts):  # children before their parents
        if part.is_leaf:
            body = _is_body(part)
            has_html[id(part)] = body and part.content_type == "text/html"
            has_text[id(part)] = body
        else:
            has_html[id(part)] = any(has_html[id(child)] for child in part.children)
            has_text[id(part)] = any(has_text[id(child)] for child in part.children)
    for part in tree.parts:  # parents before children: a mark reaches every descendant
        if part.in_alternative:
            for child in part.children:
                child.in_alternative = True
        elif part.content_type == "multipart/alternative" and part.children:
            chosen = next(
                (c for c in reversed(part.children) if has_html[id(c)]),
                next((c for c in reversed(part.children) if has_text[id(c)]), None),
            )
            for child in part.children:
                child.in_alternative = child is not chosen


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
        from tnefparse import TNEF  # loaded only for the rare winmail.dat attachment

        tnef = TNEF(data, do_checksum=False)
        return [
            (str(attachment.long_filename() or attachment.name or ""), bytes(attachment.data))
            for attachment in tnef.attachments
        ]
    except Exception:  # an unreadable winmail.dat is still offered as it is
        return []


def _is_tnef(part: Part, filename: str) -> bool:
    return part.content_type in TNEF_TYPES or filename.lower() == "winmail.dat"


def _text(tree: Tree, part: Part) -> str:
    """The text of a leaf: its charset when it fits, else UTF-8, the message's, windows-1252."""
    return decode_bytes(tree.decoded(part), _charset(part.headers), tree.charset)


def _attachment_name(tree: Tree, part: Part, charset: str | None) -> str:
    name = part_filename(part.headers, charset)
    if not name and part.content_type == "message/rfc822":
        inner = _part(tree.raw, part.start, part.end)
        name = _header(inner.headers, "Subject", charset)
        name = name + ".eml" if name else ""
    return name


def describe(tree: Tree, part: Part, charset: str | None) -> Attachment:
    """The download entry of one leaf: file name, clean content type, decoded size."""
    kind = clean_type(part.content_type)
    try:
        name = _attachment_name(tree, part, charset)
    except Exception:  # an unreadable name: the part is still offered under a made-up one
        log.info("unreadable file name of part %s", part.part_id)
        name = ""
    declared = _param(part.headers, "charset")
    return Attachment(
        part.part_id,
        safe_filename(name, part.part_id, kind),
        kind,
        tree.decoded_size(part),
        declared if isinstance(declared, str) and declared.isascii() else "",
    )


def build_view(raw: bytes | Tree) -> MessageView:
    """Build the read page's view of the message `raw` (bytes or an already parsed tree)."""
    tree = raw if isinstance(raw, Tree) else parse(raw)
    headers = tree.root.headers
    charset = tree.charset
    view = MessageView(
        sender=_header(headers, "From", charset),
        to=_header(headers, "To", charset),
        cc=_header(headers, "Cc", charset),
        date=_format_date(_header(headers, "Date", charset)),
        subject=_header(headers, "Subject", charset),
        message_id=_header(headers, "Message-ID", charset),
        references=_header(headers, "References", charset),
    )
    view.addresses = _addresses(headers)
    _mark_alternatives(tree)
    leaves = tree.leaves()
    shown = [part for part in leaves if _shown(part)]
    texts: dict[str, str] = {}
    for part in shown:
        try:
            texts[part.part_id] = _text(tree, part)
        except Exception:  # shown below as a part that could not be shown
            log.info("text of part %s could not be decoded", part.part_id)

    inlined = _inline_images(
        tree, leaves, [texts.get(p.part_id, "") for p in shown if p.content_type == "text/html"]
    )
    images = dict(inlined.values())
    for part in shown:
        view.bodies.append(_render(part, texts.get(part.part_id), images))
    view.html = next((b.content for b in view.bodies if b.kind == "html"), None)
    view.blocked_remote = sum(body.blocked_remote for body in view.bodies)
    view.text = _quoted_text(tree, leaves, texts)

    shown_ids = {part.part_id for part in shown}
    for part in leaves:
        if part.part_id in shown_ids or part.part_id in inlined:
            continue
        if part.in_alternative and _is_body(part):
            continue  # the other form of a body that is shown
        view.attachments.extend(_entries(tree, part, charset))
    return view


def _render(part: Part, text: str | None, images: dict[str, str]) -> Body:
    """Render one body (`images`: Content-ID key to data: URI); a failure gives the line
    that offers it for download instead."""
    if text is None:
        return Body(part.part_id, "failed")
    try:
        if part.content_type == "text/html":
            cleaned = clean_html(text, images)
            return Body(part.part_id, "html", cleaned.html, cleaned.blocked_remote)
        return Body(part.part_id, "text", text)
    except Exception:  # the page still opens; the part stays downloadable
        log.info("part %s could not be rendered", part.part_id)
        return Body(part.part_id, "failed")


def _inline_images(
    tree: Tree, leaves: list[Part], html_sources: list[str]
) -> dict[str, tuple[str, str]]:
    """Map part ids of images an HTML body refers to (cid:) to (key, data: URI)."""
    if not html_sources:
        return {}
    referenced = "\n".join(html_sources).lower()
    if "cid:" not in referenced:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for part in leaves:
        cid = part.headers.get("Content-ID")
        kind = part.content_type
        if not cid or kind not in INLINE_IMAGE_TYPES:
            continue
        key = content_id_key(decode_header_value(str(cid)))
        if not key or key not in referenced:
            continue
        try:
            data = tree.decoded(part)
        except Exception:  # offered as an attachment instead
            log.info("inline image of part %s could not be decoded", part.part_id)
            continue
        if len(data) <= MAX_INLINE_IMAGE:
            encoded = base64.b64encode(data).decode("ascii")
            found[part.part_id] = (key, f"data:{kind};base64,{encoded}")
    return found


def _quoted_text(tree: Tree, leaves: list[Part], texts: dict[str, str]) -> str | None:
    """The plain text a reply quotes: the first plain body, shown or its alternative."""
    for part in leaves:
        if _body_type(part) == "text/plain" and not _is_attachment(part):
            if part.part_id in texts:
                return texts[part.part_id]
            if part.in_alternative:
                try:
                    return _text(tree, part)
                except Exception:  # no quote from an unreadable part
                    return None
    return None


def _entries(tree: Tree, part: Part, charset: str | None) -> list[Attachment]:
    """The download entries of one leaf (the files inside a readable winmail.dat)."""
    try:
        entry = describe(tree, part, charset)
    except Exception:  # still offered: the bytes are what they are
        log.info("part %s could not be described", part.part_id)
        entry = Attachment(part.part_id, f"attachment-{part.part_id}.bin", OCTET_STREAM, 0)
    if _is_tnef(part, entry.filename):
        files = _tnef_files(tree.decoded(part))
        if files:
            entries = []
            for index, (file_name, content) in enumerate(files, start=1):
                sub_id = f"{part.part_id}.{index}"
                guessed = mimetypes.guess_type(file_name)[0] or OCTET_STREAM
                entries.append(
                    Attachment(
                        sub_id, safe_filename(file_name, sub_id, guessed), guessed, len(content)
                    )
                )
            return entries
    return [entry]


def _addresses(headers: Message) -> list[str]:
    """The lower-cased addresses in To and Cc (for replying to all)."""
    values = [
        decode_header_value(str(value))
        for name in ("To", "Cc")
        for value in headers.get_all(name, [])
    ]
    try:
        pairs = getaddresses(values)
    except Exception:  # an address list the parser cannot read: nobody to add
        return []
    return [address.lower() for _name, address in pairs if "@" in address]


def find_attachment(raw: bytes, part_id: str) -> tuple[Attachment, bytes] | None:
    """Return the part `part_id` of message `raw` with its decoded bytes, or None.

    Any leaf can be downloaded (also a body that is shown); "3.1" names the first file
    inside the winmail.dat of part 3.
    """
    if not re.fullmatch(r"\d{1,6}(?:\.\d{1,4})?", part_id):
        return None
    tree = parse(raw)
    top, _, sub = part_id.partition(".")
    part = tree.leaf(top)
    if part is None:
        return None
    charset = tree.charset
    data = tree.decoded(part)
    if not sub:
        return describe(tree, part, charset), data
    files = _tnef_files(data)
    index = int(sub) - 1
    if not 0 <= index < len(files):
        return None
    file_name, content = files[index]
    guessed = mimetypes.guess_type(file_name)[0] or OCTET_STREAM
    return Attachment(part_id, safe_filename(file_name, part_id, guessed), guessed, len(content)), (
        content
    )


def message_subject(raw: bytes) -> str:
    """The decoded Subject of a message (for the name of its .eml download)."""
    tree = parse(raw)
    return _header(tree.root.headers, "Subject", tree.charset)


def _format_date(value: str) -> str:
    if not value:
        return ""
    try:
        moment: Any = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return value
    return str(moment.strftime("%Y-%m-%d %H:%M %z")).strip()
