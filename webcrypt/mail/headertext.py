"""Header text as a person should read it: RFC 2047 encoded-words, raw UTF-8, legacy bytes.

One decoder for every header field the gateway shows or matches on. It never raises and
never leaves a surrogate or a U+FFFD behind when a decoding exists:

* raw bytes (RFC 6532 UTF-8, or 8-bit bytes of an older mail client) are tried as UTF-8,
  then as the message's own charset, then as windows-1252 (ISO-8859-1 for the five bytes
  windows-1252 leaves undefined);
* encoded-words are decoded in their own charset (any charset Python knows, with the
  supersets mail clients use: windows-1252 for ISO-8859-1 and US-ASCII, GB18030 for
  GB2312 and GBK); adjacent encoded-words are joined without the white space between
  them (RFC 2047 section 6.2) and decoded together, so a character split across two words
  survives; white space between an encoded-word and plain text is kept;
* folded lines are unfolded and runs of white space become one space.
"""

from __future__ import annotations

import binascii
import codecs
import re

#: Charsets that name a superset in practice (what mail clients and browsers decode with),
#: and IANA names Python knows under another name.
_SUPERSETS = {
    "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-8-e": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-6-e": "iso-8859-6",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
}
#: Python codecs that are not charsets a mail can be written in.
_NOT_CHARSETS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "mbcs", "oem"}
)
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([QqBb])\?(.*?)\?=", re.DOTALL)
_FOLD = re.compile(rb"\r\n|\r|\n")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def codec_for(charset: str | bytes | None) -> str | None:
    """Return the Python codec for a MIME charset name, or None when there is none.

    Tolerates the garbage real mail carries there (NULs, quotes, RFC 2231 language
    suffixes); a name Python does not know, or a codec that is no text charset, is None.
    """
    if charset is None:
        return None
    if isinstance(charset, bytes):
        charset = charset.decode("latin-1")
    name = charset.split("*", 1)[0].strip().strip("\"'").strip().lower()
    if not name or len(name) > 40 or not name.isascii() or not name.isprintable():
        return None
    name = _SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        if not name.startswith("x-"):
            return None
        return codec_for(name[2:])  # x-mac-roman and the like: the name without "x-"
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None = None, fallback: str | None = None) -> str:
    """Decode `data`: in `charset` when it fits, else UTF-8, `fallback`, windows-1252.

    Never raises; the last resort (ISO-8859-1) decodes every byte.
    """
    tried: list[str] = []
    for candidate in (charset, "utf-8", fallback, "cp1252"):
        codec = codec_for(candidate)
        if codec is None or codec in tried:
            continue
        tried.append(codec)
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    return data.decode("latin-1")


def _as_bytes(raw: str | bytes) -> bytes:
    """The bytes of a header value; a str from a parser keeps raw bytes as surrogates."""
    if isinstance(raw, bytes):
        return raw
    return raw.encode("utf-8", "surrogateescape")


def _word_bytes(encoding: bytes, text: bytes) -> bytes | None:
    """Decode the encoded text of one encoded-word to bytes (None when it is not valid)."""
    if encoding in (b"B", b"b"):
        compact = b"".join(text.split())
        try:
            return binascii.a2b_base64(compact + b"=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            return None
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.replace(b"_", b" "))


def decode_header_value(raw: str | bytes, *, fallback_charset: str | None = None) -> str:
    """Return header field text `raw` decoded for display, on one line.

    `raw` is the field's value as bytes, or as str from a parser that keeps undecodable
    bytes as surrogates (``surrogateescape``). `fallback_charset` is the message's own
    charset, tried after UTF-8 for raw 8-bit bytes and for encoded-words that do not
    decode in the charset they name.
    """
    data = _FOLD.sub(b"", _as_bytes(raw))
    pieces: list[str] = []
    pending: list[bytes] = []  # bytes of adjacent encoded-words in one charset
    pending_charset: bytes | None = None
    position = 0

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            pieces.append(decode_bytes(b"".join(pending), _text(pending_charset), fallback_charset))
            pending.clear()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(data):
        decoded = _word_bytes(match.group(2), match.group(3))
        if decoded is None:
            continue  # not a valid word: left in the text as written
        between = data[position : match.start()]
        charset = match.group(1).split(b"*", 1)[0].lower()
        if between.strip(b" \t") or not pending:
            flush()
            pieces.append(decode_bytes(between, None, fallback_charset))
        elif charset != pending_charset:
            flush()
        pending.append(decoded)
        pending_charset = charset
        position = match.end()
    flush()
    pieces.append(decode_bytes(data[position:], None, fallback_charset))
    return " ".join("".join(pieces).split())


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


_CHARSET_PARAMETER = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:+-]{1,40})""", re.IGNORECASE)


def message_charset(raw: bytes) -> str | None:
    """Return the message's own charset: the first usable ``charset=`` parameter in it.

    The fallback for raw 8-bit header bytes that are not UTF-8 (a mail client writes its
    headers and its text parts in one charset).
    """
    for match in _CHARSET_PARAMETER.finditer(raw):
        charset = match.group(1).decode("ascii")
        if codec_for(charset) is not None:
            return charset
    return None
