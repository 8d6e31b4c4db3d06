"""The carrier mail: a readable note to the recipient with the sealed message attached.

The note says who sent a secure message and how to open it, never anything of the message.
``secure.htm`` goes out 7-bit clean: its base64 lines are ASCII already, so a second base64
(a third bigger carrier) is avoided. Domains listed in ``attachment_domains`` get the same
envelope as a neutral file for mail systems that strip ``.htm`` attachments.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses
from functools import lru_cache, partial
from typing import TYPE_CHECKING, TypedDict, Unpack

from markupsafe import Markup

from keystore.addresses import normalize_address
from keystore.languages import LANGUAGES
from webcrypt.mail.compose import (
    Chunks,
    CrlfLines,
    Part,
    address_header,
    leaf_part,
    lf_lines,
    multipart,
    readable_body,
    serialize,
    seven_bit,
    seven_bit_lines,
)
from webcrypt.mail.dates import format_day
from webcrypt.mail.message import decode_text, without_surrogates
from webcrypt.mail.rendering import language, render_mail, render_template
from webcrypt.sealing.branding import LOGO_TYPES as LOGO_MIME_TYPES
from webcrypt.sealing.branding import Branding
from webcrypt.sealing.pins import FIRST_CONTACT, pin_channel
from webcrypt.sealing.securehtm import secure_htm_pieces

if TYPE_CHECKING:
    from keystore.settings import Settings
    from webcrypt import envelope
    from webcrypt.envelope.header import Header

HTML_NAME = "secure.htm"
NEUTRAL_NAME = "secure-message.dat"
LOGO_CID = "logo@webcrypt"
"""The Content-ID of the logo inside a carrier (mail programs do not show data: images)."""
TRIGGER_HEADER = "X-WebCrypt-Trigger"
"""Names the rule that sealed the message when it was not the adviser's own choice."""


@dataclass(frozen=True)
class Adviser:
    """The internal sender as shown to the recipient."""

    address: str
    name: str

    @classmethod
    def from_header(cls, from_header: str, fallback: str) -> Adviser:
        """Take the display name and address of a From header, else the envelope sender.

        An address the keystore could not take (8-bit bytes, no domain, ...) is replaced by
        the envelope sender; the name is always text that can be encoded.
        """
        name, address = _name_and_address(from_header)
        try:
            normalize_address(address)
        except ValueError:
            address = fallback
        return cls(address=address, name=name or address)

    def header(self) -> str:
        """Return the From header value (the name encoded and folded when needed)."""
        if self.name == self.address:
            return self.address
        return address_header(self.name, self.address)


@lru_cache(maxsize=1024)
def _name_and_address(from_header: str) -> tuple[str, str]:
    """Decoded display name and address of a From header (advisers write many mails)."""
    try:
        pairs = getaddresses([from_header]) if from_header else []
    except Exception:  # a malformed From header: the envelope sender is enough
        pairs = []
    name, address = pairs[0] if pairs else ("", "")
    return without_surrogates(decode_text(name)), address


_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,900}>")
"""A msg-id as the carrier may repeat it: printable ASCII between angle brackets."""


def thread_headers(fields: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """In-Reply-To and References for the carrier: the well-formed ids of the original's.

    The carrier writes them itself, so that what it takes over is ASCII and foldable:
    ids with 8-bit bytes or without brackets are left out, as is a field left empty.
    """
    kept = []
    for name, value in fields:
        ids = _MESSAGE_ID.findall(value)
        if ids:
            kept.append((name, " ".join(ids)))
    return kept


def _attachment_fields(*, neutral: bool, seven: bool) -> tuple[str, str, tuple[str, str]]:
    """Content-Type, transfer encoding and Content-Disposition of the attachment."""
    content_type = "application/octet-stream" if neutral else "text/html"
    filename = NEUTRAL_NAME if neutral else HTML_NAME
    if seven:
        charset, encoding = ("" if neutral else '; charset="us-ascii"'), "7bit"
    else:
        charset, encoding = ("" if neutral else '; charset="utf-8"'), "quoted-printable"
    return (
        f'{content_type}{charset}; name="{filename}"',
        encoding,
        ("Content-Disposition", f'attachment; filename="{filename}"'),
    )


def attachment(content: str, *, neutral: bool) -> Part:
    """Wrap the attachment text 7-bit when it is ASCII with short lines, else quoted-printable."""
    data = lf_lines(content).encode("utf-8")
    seven = seven_bit(data)
    if not seven:
        data = binascii.b2a_qp(data, istext=True)
    content_type, encoding, disposition = _attachment_fields(neutral=neutral, seven=seven)
    return leaf_part(content_type, encoding, data, disposition)


def attachment_pieces(pieces: Sequence[bytes], *, neutral: bool) -> Part:
    """`attachment` for text that comes as ASCII pieces: the same part, the pieces not joined.

    Text that cannot go out 7-bit as it is (a CR, a long line) takes `attachment`'s way.
    """
    if any(b"\r" in piece for piece in pieces) or not seven_bit_lines(pieces):
        return attachment(b"".join(pieces).decode("utf-8", "surrogateescape"), neutral=neutral)
    lines = [piece for piece in pieces if piece]
    if not lines or not lines[-1].endswith(b"\n"):
        lines.append(b"\n")
    content_type, encoding, disposition = _attachment_fields(neutral=neutral, seven=True)
    fields = (("Content-Type", content_type), ("Content-Transfer-Encoding", encoding))
    return Part((*fields, disposition), CrlfLines(lines))


LANGUAGE_RULE = "\n\n" + "-" * 40 + "\n\n"
"""What separates the languages of a note written in several."""


class NoteAuthor(TypedDict):
    """Whose branded note it is: the adviser it speaks for, the settings and the portal."""

    adviser: Adviser
    settings: Settings
    portal_url: str


def branded_note(
    name: str,
    langs: Sequence[str],
    *,
    adviser: Adviser,
    settings: Settings,
    portal_url: str,
    **context: object,
) -> tuple[list[str], str, str]:
    """Render the note ``carrier/<name>`` in each of `langs` with the deployment's branding.

    Returns each language's subject, then the texts and the HTML, one language after the
    other. Templates get `day` to write a date in their language.
    """
    texts, htmls, titles = [], [], []
    for lang in langs:
        rendered = render_mail(
            "carrier",
            name,
            lang,
            sender=adviser.address,
            sender_name=adviser.name,
            product_name=settings.product_name,
            brand_color=settings.brand_color,
            logo_src=logo_src(settings),
            footer=settings.footer(lang),
            contact=settings.contact(lang),
            portal_url=portal_url,
            day=partial(format_day, lang=lang),
            **context,
        )
        texts.append(rendered.text)
        # Output of an autoescaped template: already safe HTML.
        htmls.append(Markup(rendered.html or ""))  # noqa: S704
        titles.append(rendered.subject)
    html = render_template("carrier/layout.html", lang=langs[0], title=titles[0], fragments=htmls)
    return titles, LANGUAGE_RULE.join(texts), html


@lru_cache(maxsize=256)
def readable_parts(
    *,
    langs: tuple[str, ...],
    neutral: bool,
    inbox_link: str = "",
    by_thread: bool = False,
    **author: Unpack[NoteAuthor],
) -> tuple[str, str]:
    """Render the text and HTML note, one language after the other (cached: same inputs,
    same note)."""
    _titles, text, html = branded_note(
        "carrier",
        langs,
        upload_url=f"{author['portal_url'].rstrip('/')}/upload",
        filename=NEUTRAL_NAME if neutral else HTML_NAME,
        neutral=neutral,
        inbox_link=inbox_link,
        by_thread=by_thread,
        pin_from=pin_channel(FIRST_CONTACT, author["settings"]),
        **author,
    )
    return text, html


def branded_body(text: str, html: str, settings: Settings) -> Part:
    """The text and HTML of a note as a MIME part, for every mail the gateway brands.

    With a logo, the HTML and the image travel together (multipart/related), the image
    named by its Content-ID (`logo_src`): mail programs do not show data: images.
    """
    body = readable_body(text, html)
    if not _has_logo(settings):
        return body
    return multipart("related", [body, _logo_part(settings.logo_png, settings.logo_mime)])


_readable_body = lru_cache(maxsize=256)(branded_body)
"""The carrier's note, encoded once for the same note."""


def logo_src(settings: Settings) -> str:
    """What a branded note's <img> points to: the inline logo part, or "" without a logo."""
    return f"cid:{LOGO_CID}" if _has_logo(settings) else ""


def _has_logo(settings: Settings) -> bool:
    return bool(settings.logo_png) and settings.logo_mime in LOGO_MIME_TYPES


@lru_cache(maxsize=4)
def _logo_part(image: bytes, mime: str) -> Part:
    """The logo as an inline image part, base64 in lines of 76 characters."""
    encoded = base64.b64encode(image)
    lines = b"\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    extension = {"image/jpeg": "jpg"}.get(mime, mime.rpartition("/")[2])
    return leaf_part(
        mime,
        "base64",
        lines,
        ("Content-ID", f"<{LOGO_CID}>"),
        ("Content-Disposition", f'inline; filename="logo.{extension}"'),
    )


def carrier_languages(recipient_lang: str | None, default: str) -> list[str]:
    """The recipient's language when known, else the default followed by the others."""
    if recipient_lang in LANGUAGES:
        return [str(recipient_lang)]
    first = language(default)
    return [first, *(lang for lang in LANGUAGES if lang != first)]


@dataclass(frozen=True)
class Cover:
    """What every mail about a sealed message tells one recipient around it."""

    adviser: Adviser
    to: str
    subject: str
    settings: Settings
    portal_url: str
    recipient_lang: str | None
    thread: Sequence[tuple[str, str]] = ()

    def languages(self) -> tuple[str, ...]:
        """The languages the mail is written in (see `carrier_languages`)."""
        return tuple(carrier_languages(self.recipient_lang, self.settings.default_language))


def carrier_for(
    cover: Cover,
    sealed: envelope.SealedMessage,
    *,
    address: str,
    neutral: bool,
    inbox_link: str = "",
    by_thread: bool = False,
) -> Chunks:
    """Build one recipient's carrier from the sealed message (called just before relaying).

    The carrier comes in CRLF pieces that share the sealed payload: it costs no copy of the
    envelope, whatever the number of recipients; the relay writes the pieces out.
    `inbox_link` (delivery method "both") adds a link to the same message in the secure
    mailbox. `by_thread` says the message was sealed because it answers a mail the
    recipient sent from the portal: the note says so, and so does the header
    ``X-WebCrypt-Trigger``.
    """
    settings = cover.settings
    lang = cover.recipient_lang or settings.default_language
    pieces = _attachment(sealed, address, neutral, settings, lang)
    text, html = readable_parts(
        adviser=cover.adviser,
        settings=settings,
        portal_url=cover.portal_url,
        langs=cover.languages(),
        neutral=neutral,
        inbox_link=inbox_link,
        by_thread=by_thread,
    )
    readable = _readable_body(text, html, settings)
    headers = thread_headers(cover.thread)
    if by_thread:
        headers = [*headers, (TRIGGER_HEADER, "thread")]
    return serialize(
        sender=cover.adviser.header(),
        to=cover.to,
        subject=cover.subject,
        body=multipart("mixed", [readable, attachment_pieces(pieces, neutral=neutral)]),
        headers=headers,
    )


def _attachment(
    sealed: envelope.SealedMessage,
    address: str,
    neutral: bool,
    settings: Settings,
    lang: str,
) -> list[bytes]:
    """The bare armored envelope (neutral variant) or secure.htm around it, in pieces."""
    if neutral:
        return sealed.armored_pieces(address)
    armored = sealed.armored_pieces(address, final_newline=False)
    return _secure_htm(armored, sealed.headers[address], settings, lang)


@lru_cache(maxsize=8)
def _branding(settings: Settings, lang: str) -> Branding:
    """Branding from the settings (the logo is base64-encoded once per settings version)."""
    return Branding.from_settings(settings, lang)


def _secure_htm(armored: list[bytes], header: Header, settings: Settings, lang: str) -> list[bytes]:
    """Render secure.htm for one recipient (never with anything from the account but the
    language: the security phrase is shown on the portal only)."""
    return secure_htm_pieces(
        armored,
        header,
        branding=_branding(settings, lang),
        lang=lang if lang in ("en", "de") else "en",
    )
