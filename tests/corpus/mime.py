"""A small MIME writer for the corpus: every part knows what a reader must get out of it.

The corpus messages are written byte by byte, not with the `email` package, so that they
keep the shapes real clients produce (and the mistakes they make). Each part records its
expectation as it is written: a text the read page must show, or bytes a download must give
back. Those expectations come from what was put in, never from parsing what came out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
from dataclasses import dataclass, field
from typing import Any

CRLF, LF, CR = b"\r\n", b"\n", b"\r"


@dataclass(frozen=True)
class Shown:
    """A text the read page must show (compared with white space collapsed)."""

    text: str
    html: bool = False


@dataclass(frozen=True)
class Download:
    """Bytes a download offered on the read page must give back exactly.

    `either_text` marks a text part that may be shown instead of offered (a text file the
    client marked inline with a name); `inner` lists the files of a winmail.dat, which the
    portal may offer instead of the blob itself.
    """

    data: bytes
    content_type: str
    either_text: str | None = None
    inner: tuple[bytes, ...] = ()

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes (what the manifest lists)."""
        return hashlib.sha256(self.data).hexdigest()


Expectation = Shown | Download


def lines(data: bytes, eol: bytes) -> bytes:
    """Turn LF line ends of `data` into `eol`."""
    return data.replace(LF, eol) if eol != LF else data


def encode_body(data: bytes, cte: str | None, eol: bytes, *, name: str = "file") -> bytes:
    """Encode `data` (text with LF line ends, or binary) with a transfer encoding."""
    kind = (cte or "7bit").lower()
    if kind == "base64":
        flat = base64.b64encode(data)
        return eol.join(flat[i : i + 76] for i in range(0, len(flat), 76)) + eol
    if kind == "quoted-printable":
        return lines(quopri.encodestring(data), eol)
    if kind == "x-uuencode":
        chunks = [binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45)]
        body = b"begin 644 " + name.encode() + b"\n" + b"".join(chunks) + b"`\nend\n"
        return lines(body, eol)
    if kind == "binary":
        return data
    return lines(data, eol)


@dataclass
class Part:
    """One MIME entity: header fields and a body, plus what a reader must get from it."""

    headers: list[tuple[str, str | bytes]]
    body: bytes
    expect: list[Expectation] = field(default_factory=list)

    def render(self, eol: bytes) -> bytes:
        """Serialize the entity with `eol` between header lines."""
        return header_block(self.headers, eol) + eol + self.body


def header_block(headers: list[tuple[str, str | bytes]], eol: bytes) -> bytes:
    """Header fields; a value's LF (folding) becomes `eol`; str values are written as UTF-8."""
    out = []
    for name, value in headers:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        out.append(name.encode("ascii") + b": " + lines(raw, eol) + eol)
    return b"".join(out)


def text(
    content: str,
    *,
    subtype: str = "plain",
    charset: str | None = "utf-8",
    codec: str | None = None,
    cte: str | None = "quoted-printable",
    eol: bytes = CRLF,
    disposition: str | None = None,
    params: str = "",
    extra: list[tuple[str, str | bytes]] | None = None,
    shown: str | None = None,
    role: str = "shown",
) -> Part:
    """A text part; `role` is "shown", "file", or anything else (need not be shown)."""
    data = content.encode(codec or charset or "ascii")
    ctype = f"text/{subtype}"
    if charset is not None:
        ctype += f'; charset="{charset}"' if subtype == "html" else f"; charset={charset}"
    headers: list[tuple[str, str | bytes]] = [("Content-Type", ctype + params)]
    if cte:
        headers.append(("Content-Transfer-Encoding", cte))
    if disposition:
        headers.append(("Content-Disposition", disposition))
    headers.extend(extra or [])
    expect: list[Expectation] = []
    if role == "shown":
        expect.append(Shown(shown if shown is not None else content, html=subtype == "html"))
    elif role == "file":
        expect.append(Download(_decoded(data, cte, eol), f"text/{subtype}"))
    return Part(headers, encode_body(data, cte, eol), expect)


def _decoded(data: bytes, cte: str | None, eol: bytes) -> bytes:
    """What decoding a text body written by `encode_body` gives back."""
    kind = (cte or "7bit").lower()
    if kind in ("base64", "binary"):
        return data
    return lines(data, eol)


def file(
    data: bytes,
    content_type: str,
    *,
    name: str | bytes | None = None,
    cte: str = "base64",
    eol: bytes = CRLF,
    disposition: str | bytes | None = "attachment",
    extra: list[tuple[str, str | bytes]] | None = None,
    expected: bytes | None = None,
    inner: tuple[bytes, ...] = (),
) -> Part:
    """A non-text part offered for download; `name` goes into both name= and filename=."""
    ctype: str | bytes = content_type
    disp: str | bytes | None = disposition
    if name is not None:
        quoted = name if isinstance(name, bytes) else name.encode("utf-8")
        ctype = content_type.encode() + b'; name="' + quoted + b'"'
        if disposition is not None:
            base = disposition if isinstance(disposition, bytes) else disposition.encode()
            disp = base + b'; filename="' + quoted + b'"'
    headers: list[tuple[str, str | bytes]] = [("Content-Type", ctype)]
    if disp is not None:
        headers.append(("Content-Disposition", disp))
    headers.append(("Content-Transfer-Encoding", cte))
    headers.extend(extra or [])
    body = encode_body(data, cte, eol, name=name if isinstance(name, str) else "file")
    plain = cte.lower() in ("7bit", "8bit", "quoted-printable")
    want = expected if expected is not None else lines(data, eol) if plain else data
    return Part(headers, body, [Download(want, content_type.split(";")[0].strip(), inner=inner)])


def inline(data: bytes, content_type: str, name: str, content_id: str) -> Part:
    """A file the HTML beside it shows through ``cid:`` `content_id`: inline, with that
    Content-ID."""
    return file(
        data,
        content_type,
        name=name,
        disposition="inline",
        extra=[("Content-ID", f"<{content_id}>")],
    )


def written(
    headers: list[tuple[str, str | bytes]],
    data: bytes,
    content_type: str,
    *,
    in_base64: bool = False,
    inner: tuple[bytes, ...] = (),
) -> Part:
    """A part with hand-written header fields whose body, `data` (in base64 when `in_base64`),
    must download unchanged."""
    body = encode_body(data, "base64", CRLF) if in_base64 else data
    return Part(headers, body, [Download(data, content_type, inner=inner)])


def embedded(
    inner: bytes,
    *,
    content_type: str = "message/rfc822",
    cte: str | None = None,
    eol: bytes = CRLF,
    disposition: str | None = None,
    name: str | None = None,
) -> Part:
    """A message/* part around `inner`, which must download exactly as `inner`."""
    ctype = content_type + (f'; name="{name}"' if name else "")
    headers: list[tuple[str, str | bytes]] = [("Content-Type", ctype)]
    if cte:
        headers.append(("Content-Transfer-Encoding", cte))
    if disposition:
        headers.append(("Content-Disposition", disposition))
    body = encode_body(inner, cte, eol) if (cte or "").lower() == "base64" else inner
    return Part(headers, body, [Download(inner, content_type.split(";")[0])])


def multipart(
    subtype: str,
    parts: list[Part],
    *,
    boundary: str,
    eol: bytes = CRLF,
    param: str | bytes | None = None,
    preamble: bytes = b"",
    epilogue: bytes = b"",
    extra: list[tuple[str, str | bytes]] | None = None,
    close: bool = True,
) -> Part:
    """A multipart entity; `param` replaces the whole Content-Type value when given."""
    ctype = param if param is not None else f'multipart/{subtype}; boundary="{boundary}"'
    headers: list[tuple[str, str | bytes]] = [("Content-Type", ctype), *(extra or [])]
    dash = b"--" + boundary.encode()
    out = [lines(preamble, eol)] if preamble else []
    for part in parts:
        out.append(dash + eol + part.render(eol) + eol)
    if close:
        out.append(dash + b"--" + eol)
    if epilogue:
        out.append(lines(epilogue, eol))
    if subtype == "alternative":
        expect = _alternatives(parts)
    else:
        expect = [e for part in parts for e in part.expect]
    return Part(headers, b"".join(out), expect)


def alternative(
    plain: str,
    html: str,
    *,
    boundary: str,
    param: str | None = None,
    **encoding: Any,
) -> Part:
    """multipart/alternative of a plain text and its HTML form, written with the same `encoding`."""
    parts = [text(plain, role="alternative", **encoding), text(html, subtype="html", **encoding)]
    return multipart("alternative", parts, boundary=boundary, param=param)


def _alternatives(parts: list[Part]) -> list[Expectation]:
    """Of alternatives the last shown form must be shown; downloads of all stay wanted."""
    shown = [p for p in parts if any(isinstance(e, Shown) for e in p.expect)]
    keep = shown[-1:] if shown else []
    out: list[Expectation] = []
    for part in parts:
        for item in part.expect:
            if isinstance(item, Shown) and part not in keep:
                continue
            out.append(item)
    return out


def message(
    headers: list[tuple[str, str | bytes]], body: Part, *, eol: bytes = CRLF
) -> tuple[bytes, list[Expectation]]:
    """A whole message: top-level fields, then the body entity's own fields and body."""
    return header_block(headers, eol) + body.render(eol), list(body.expect)


def ew_b(content: str, charset: str, codec: str | None = None) -> str:
    """One RFC 2047 "B" encoded word."""
    data = base64.b64encode(content.encode(codec or charset)).decode("ascii")
    return f"=?{charset}?B?{data}?="


def ew_q(content: str, charset: str, codec: str | None = None) -> str:
    """One RFC 2047 "Q" encoded word (space as underscore, as most clients write it)."""
    out = []
    for byte in content.encode(codec or charset):
        char = chr(byte)
        if char == " ":
            out.append("_")
        elif char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="
