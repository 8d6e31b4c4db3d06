"""Mails the gateway writes itself: the PIN mail to the adviser, the deactivated notice, ...

Templates live in ``webcrypt/templates/<folder>/<name>.<lang>.txt`` (first line = subject,
then a blank line, then the text body) with an optional ``<name>.<lang>.html`` beside it.
`render_mail` and `compose` are generic so that other notices (expiry, inactivity) reuse them.
"""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from typing import Any

import jinja2

from webcrypt.rules.message import domain_of
from webcrypt.securehtm import portal_origin

LANGUAGES = ("en", "de")
MAX_7BIT_LINE = 998
"""The longest line SMTP carries (RFC 5321), without its CRLF."""


@dataclass(frozen=True)
class Rendered:
    """A rendered mail text: subject, plain text and optional HTML."""

    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class Outgoing:
    """One mail to hand to the relay, with the envelope recipients it serves.

    `data` is the message, or a function that builds it when it is about to be relayed (so
    twenty carriers of a large message are not all held in memory at once).
    """

    data: bytes | Callable[[], bytes]
    mail_from: str
    rcpt_tos: tuple[str, ...]
    kind: str
    crlf_only: bool = False
    """True when the data ends every line in CRLF (as `serialize` guarantees)."""

    def build(self) -> bytes:
        """Return the message bytes."""
        return self.data if isinstance(self.data, bytes) else self.data()


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("webcrypt", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def language(lang: str | None, default: str = "en") -> str:
    """Return a supported language code, falling back to `default` and then English."""
    for candidate in (lang, default):
        if candidate in LANGUAGES:
            return candidate
    return "en"


def render_template(name: str, **context: Any) -> str:
    """Render one template of ``webcrypt/templates`` (HTML ones are autoescaped)."""
    return _environment().get_template(name).render(**context)


def render_mail(folder: str, name: str, lang: str, **context: Any) -> Rendered:
    """Render ``<folder>/<name>.<lang>.txt`` (and ``.html`` when it exists)."""
    env = _environment()
    text = env.get_template(f"{folder}/{name}.{lang}.txt").render(**context)
    subject, _, body = text.partition("\n")
    html: str | None
    try:
        html_template = env.get_template(f"{folder}/{name}.{lang}.html")
    except jinja2.TemplateNotFound:
        html = None
    else:
        html = html_template.render(subject_line=subject.strip(), **context)
    return Rendered(subject=subject.strip(), text=body.lstrip("\n"), html=html)


@dataclass(frozen=True)
class Part:
    """A MIME entity: header fields and either an encoded CRLF-terminated body or sub-parts.

    Serializing yields chunks that are joined once, so a large attachment is copied once.
    """

    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    parts: tuple[Part, ...] = ()
    boundary: str = ""

    def chunks(self) -> Iterator[bytes]:
        """Yield the serialized entity piece by piece."""
        yield "".join(f"{name}: {value}\r\n" for name, value in self.headers).encode() + b"\r\n"
        if not self.parts:
            yield self.body
            return
        marker = self.boundary.encode("ascii")
        for index, part in enumerate(self.parts):
            yield (b"\r\n--" if index else b"--") + marker + b"\r\n"
            yield from part.chunks()
        yield b"\r\n--" + marker + b"--\r\n"

    def contains(self, marker: bytes) -> bool:
        """Tell whether `marker` occurs anywhere in the entity."""
        if marker in self.body or any(marker in value.encode() for _, value in self.headers):
            return True
        return any(part.contains(marker) for part in self.parts)

    def to_bytes(self) -> bytes:
        """Serialize the entity."""
        return b"".join(self.chunks())


def lf_lines(text: str) -> str:
    """Return `text` with LF line ends only (CRLF and a lone CR become LF)."""
    if "\r" not in text:  # the usual case, and far cheaper to find out than to replace
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def seven_bit(data: bytes) -> bool:
    """Tell whether LF-separated `data` may go out 7-bit: ASCII, no line over 998 bytes."""
    return data.isascii() and max(map(len, data.split(b"\n"))) <= MAX_7BIT_LINE


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


def encode_header(value: str) -> str:
    """Return a header value, RFC 2047 encoded and folded when needed."""
    if len(value) <= 60 and value.isascii() and value.isprintable() and "=?" not in value:
        return value  # short plain ASCII: nothing to encode or fold (email.header agrees)
    if value.isascii():
        return Header(value, "us-ascii", header_name="Subject").encode(linesep="\r\n")
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


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
    now: Any = None,
) -> bytes:
    """Build a MIME mail (text, optional HTML alternative, attachments) as CRLF bytes.

    `sender` and `to` are ready-made header values; `headers` are extra raw header fields.
    """
    body = readable_body(text, html)
    if attachments:
        body = multipart("mixed", [body, *attachments])
    return serialize(sender=sender, to=to, subject=subject, body=body, headers=headers, now=now)


def serialize(
    *,
    sender: str,
    to: str,
    subject: str,
    body: Part,
    headers: Iterable[tuple[str, str]] = (),
    now: Any = None,
) -> bytes:
    """Put the top header fields (Date and Message-ID made here) on a MIME body; CRLF bytes."""
    date = format_datetime(now) if now is not None else format_datetime_now()
    domain = domain_of(sender.rpartition("<")[2].strip(">")) or None
    top = [
        ("From", sender),
        ("To", to),
        ("Subject", encode_header(subject)),
        ("Date", date),
        ("Message-ID", make_msgid(domain=_ascii_domain(domain))),
        *headers,
    ]
    # Address fields are written as given: a non-ASCII address stays UTF-8 (RFC 6532).
    head = "".join(fold(name, value) for name, value in top) + "MIME-Version: 1.0\r\n"
    # A line end inside a value taken from elsewhere (a References field) becomes CRLF
    # too: every line of the result ends in CRLF, as `Outgoing.crlf_only` promises.
    head = lf_lines(head).replace("\n", "\r\n")
    return b"".join([head.encode("utf-8"), *body.chunks()])


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


def _ascii_domain(domain: str | None) -> str | None:
    if not domain:
        return None
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def format_datetime_now() -> str:
    """Return the current time as an RFC 5322 date."""
    from datetime import UTC, datetime

    return format_datetime(datetime.now(UTC))


def system_sender(product_name: str, adviser: str) -> str:
    """Return the From header of gateway notices: the product at the adviser's domain."""
    domain = domain_of(adviser) or "localhost"
    return formataddr((product_name, f"postmaster@{domain}"))


def _notice(
    name: str,
    *,
    adviser: str,
    settings: Any,
    lang: str | None,
    context: Mapping[str, Any],
) -> Outgoing:
    chosen = language(lang, settings.default_language)
    rendered = render_mail(
        "mail",
        name,
        chosen,
        product_name=settings.product_name,
        contact=settings.contact(chosen),
        **context,
    )
    data = compose(
        sender=system_sender(settings.product_name, adviser),
        to=adviser,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=[("Auto-Submitted", "auto-generated")],
    )
    # Null sender: an automatic notice must never cause a bounce loop.
    return Outgoing(data=data, mail_from="", rcpt_tos=(adviser,), kind=name, crlf_only=True)


def pin_mail(
    *, adviser: str, recipient: str, pin: str, portal_url: str, settings: Any, lang: str | None
) -> Outgoing:
    """Build the mail that gives the adviser a new recipient's one-time PIN.

    It also gives the adviser what to tell the customer against forged pages: the portal's
    address (the only page for the password) and that it shows their security phrase.
    """
    return _notice(
        "pin",
        adviser=adviser,
        settings=settings,
        lang=lang,
        context={
            "recipient": recipient,
            "pin": pin,
            "portal_url": portal_url,
            "origin": portal_origin(portal_url),
        },
    )


def deactivated_notice(
    *, adviser: str, recipient: str, subject: str, others: bool, settings: Any, lang: str | None
) -> Outgoing:
    """Build the bounce-style notice that a recipient's account is deactivated."""
    return _notice(
        "deactivated",
        adviser=adviser,
        settings=settings,
        lang=lang,
        context={"recipient": recipient, "subject": subject, "other_recipients": others},
    )
