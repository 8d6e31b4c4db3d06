"""secure.htm: the self-contained HTML file that carries an envelope to the portal.

`render_secure_htm` writes it, `extract_envelope` finds the envelope again in
whatever the recipient hands the portal: the file, the whole mail, or the text.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from webcrypt.envelope import Envelope, EnvelopeFormatError, Header, parse
from webcrypt.envelope.armor import BEGIN, END
from webcrypt.envelope.errors import INCOMPLETE
from webcrypt.mail.dates import format_moment
from webcrypt.sealing.branding import Branding

TEMPLATE = "secure.htm.j2"
NOT_FOUND = (
    "No WebCrypt secure message was found. Please choose the secure.htm attachment, "
    "or the whole e-mail saved as an .eml file."
)
NOT_FOUND_IN_MAIL = (
    "This e-mail does not contain a WebCrypt secure message. Please choose the mail "
    "that has the secure.htm attachment."
)
_HEADER_FIELD = re.compile(rb"\A\s*(?:From [^\n]*\n)?[!-9;-~]+:")

FOLD = 76


def _encoded_length(text: str) -> int:
    return len(str(escape(text)).encode("ascii", "xmlcharrefreplace"))


def fold(text: str) -> Markup:
    """Escape `text` and break it into lines of at most about 76 characters as written.

    Lines are measured after escaping and character references, so secure.htm
    keeps well inside the 998-character line limit of mail whatever the names
    and footers are; a word longer than a line is split.
    """
    return _fold(str(text))


# Most folded texts (the page's sentences, footers, senders) repeat from one
# message to the next, and folding measures every word escaped: remember the results.
@functools.lru_cache(maxsize=1024)
def _fold(text: str) -> Markup:
    lines: list[str] = []
    line = ""
    for word in text.split():
        while _encoded_length(word) > FOLD:
            cut = len(word) - 1
            while _encoded_length(word[:cut]) > FOLD:
                cut = max(1, cut * FOLD // _encoded_length(word[:cut]) - 1)
            lines.extend([line, word[:cut]] if line else [word[:cut]])
            line, word = "", word[cut:]
        if line and _encoded_length(f"{line} {word}") > FOLD:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return Markup("\n").join(escape(part) for part in lines)


def wrap_data_uri(uri: str) -> str:
    """Break a data: URI's base64 into lines; URL parsing drops the line breaks again."""
    prefix, comma, data = uri.partition(",")
    return prefix + comma + "\n".join(data[i : i + FOLD] for i in range(0, len(data), FOLD))


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parents[1] / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_environment.filters["fold"] = fold


def portal_origin(portal_url: str) -> str:
    """Return the address customers should check before typing a password: `https://host/`."""
    parts = urlsplit(portal_url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.netloc else portal_url


def _dates(moment: datetime) -> dict[str, str]:
    """Format a time for both languages."""
    return {lang: format_moment(moment, lang) for lang in ("en", "de")}


# The page is rendered once per branding, portal and language with stand-ins for what
# changes per message; each stand-in is a single word that escaping and folding leave as
# it is, and the values put in its place are escaped and folded as the template would.
_SLOT = f"slot{secrets.token_hex(12)}"
_SLOTS = {
    f"{_SLOT}sender": "sender",
    f"{_SLOT}recipient": "recipient",
    f"{_SLOT}createden": "created.en",
    f"{_SLOT}createdde": "created.de",
    f"{_SLOT}expiresen": "expires.en",
    f"{_SLOT}expiresde": "expires.de",
    f"{_SLOT}envelope": "envelope",
}
_SLOT_PATTERN = re.compile("|".join(_SLOTS))


@functools.lru_cache(maxsize=256)
def _shell(lang: str, version: int, portal: str, branding: Branding) -> tuple[tuple[str, str], ...]:
    """The page as (text, slot) pieces, 7-bit clean; the last piece has no slot."""
    stand_in = {name: slot for slot, name in _SLOTS.items()}
    html = _environment.get_template(TEMPLATE).render(
        lang=lang,
        version=version,
        sender=stand_in["sender"],
        recipient=stand_in["recipient"],
        created={"en": stand_in["created.en"], "de": stand_in["created.de"]},
        expires={"en": stand_in["expires.en"], "de": stand_in["expires.de"]},
        portal=portal,
        host=urlsplit(portal).hostname or portal,
        origin=portal_origin(portal),
        action=f"{portal}/open",
        upload=f"{portal}/upload",
        product=branding.product_name,
        color=branding.brand_color,
        logo=wrap_data_uri(branding.logo_data_uri),
        contact=branding.contact,
        footer=branding.footer,
        envelope=stand_in["envelope"],
    )
    html = html.encode("ascii", "xmlcharrefreplace").decode("ascii")
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in _SLOT_PATTERN.finditer(html):
        pieces.append((html[position : match.start()], _SLOTS[match.group()]))
        position = match.end()
    pieces.append((html[position:], ""))
    if [slot for _, slot in pieces].count("envelope") != 1:
        raise ValueError("the envelope placeholder must occur exactly once")
    return tuple(pieces)


def _ascii(markup: str) -> str:
    return markup.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _page(header: Header, branding: Branding | None, lang: str) -> list[str]:
    """The page's text around the envelope: the pieces before it, then the rest."""
    pieces = _shell(
        "de" if lang == "de" else "en",
        header.version,
        header.portal_url.rstrip("/"),
        branding or Branding(),
    )
    created, expires = _dates(header.created), _dates(header.expires)
    values = {
        "sender": _ascii(fold(header.sender)),
        "recipient": _ascii(fold(header.recipient)),
        "created.en": _ascii(escape(created["en"])),
        "created.de": _ascii(escape(created["de"])),
        "expires.en": _ascii(escape(expires["en"])),
        "expires.de": _ascii(escape(expires["de"])),
    }
    before: list[str] = []
    after: list[str] = []
    target = before
    for text, slot in pieces:
        target.append(text)
        if slot == "envelope":
            target = after
        else:
            target.append(values.get(slot, ""))
    return ["".join(before), "".join(after)]


def render_secure_htm(
    armored: str,
    header: Header,
    *,
    branding: Branding | None = None,
    lang: str = "en",
) -> str:
    """Return secure.htm for one recipient: 7-bit clean HTML that posts `armored` to the portal.

    It names the portal's address as the only place for the password and carries nothing
    personal beyond the header's names and dates: the recipient's security phrase is shown
    by the portal only, so a forwarded file does not help anyone forge a convincing one.

    The page around the envelope comes from a cache: only the sender, the recipient and
    the dates are escaped and put in per message, and a large envelope is copied once.
    """
    if not armored.isascii() or "<" in armored or "&" in armored:
        raise ValueError("armored must be the ASCII text of an envelope")
    before, after = _page(header, branding, lang)
    return "".join((before, armored.rstrip("\n"), after))


def secure_htm_pieces(
    armored: Sequence[bytes],
    header: Header,
    *,
    branding: Branding | None = None,
    lang: str = "en",
) -> list[bytes]:
    """`render_secure_htm` for an envelope in pieces (`SealedMessage.armored_pieces` without
    the final line end): the page as ASCII pieces, the envelope's own pieces not copied."""
    if any(not piece.isascii() or b"<" in piece or b"&" in piece for piece in armored):
        raise ValueError("armored must be the ASCII text of an envelope")
    before, after = _page(header, branding, lang)
    return [before.encode("ascii"), *armored, after.encode("ascii")]


def _armor_in(data: bytes) -> str:
    """Cut the armored envelope out of bytes that contain it literally (HTML or text)."""
    begin = data.find(BEGIN.encode("ascii"))
    if begin < 0:
        raise EnvelopeFormatError(NOT_FOUND)
    end = data.find(END.encode("ascii"), begin)
    if end < 0:
        raise EnvelopeFormatError(INCOMPLETE)
    stop = end + len(END)
    try:
        # Decoded straight from the buffer, with the newline when it follows: a megabyte
        # envelope is copied once.
        if data[stop : stop + 1] == b"\n":
            return str(memoryview(data)[begin : stop + 1], "ascii")
        return str(memoryview(data)[begin:stop], "ascii") + "\n"
    except UnicodeDecodeError:
        raise EnvelopeFormatError(NOT_FOUND) from None


def _armor_in_mail(data: bytes) -> str:
    """Find the envelope in any part of a whole mail, whatever its transfer encoding.

    Attached mails (message/rfc822, e.g. a forwarded carrier) are walked too.
    """
    # compat32: only payloads are read here, and it skips building header objects (the
    # default policy's parse took twice as long for a carrier).
    message = BytesParser(policy=policy.compat32).parsebytes(data)
    marker = BEGIN.encode("ascii")
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True)
        if isinstance(content, bytes) and marker in content:
            return _armor_in(content)
    raise EnvelopeFormatError(NOT_FOUND_IN_MAIL)


def read_envelope(data: bytes) -> Envelope:
    """Return the parsed envelope in a secure.htm, a whole .eml, or bare armored text.

    Raises EnvelopeFormatError, with a message for the person who chose the
    file, when no readable envelope is found (unknown versions and damaged headers too).
    """
    looks_like_mail = _HEADER_FIELD.match(data) is not None
    return parse(_armor_in_mail(data) if looks_like_mail else _armor_in(data))


def extract_envelope(data: bytes) -> str:
    """Return the armored envelope in a secure.htm, a whole .eml, or bare armored text."""
    return read_envelope(data).text
