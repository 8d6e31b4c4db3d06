"""Generated MIME trees and byte mutations, opened through the real portal.

For every generated message: the page opens (never a 500), every text part meant to be
read is shown, every leaf downloads byte-identical to what was put in, the .eml download
is the message itself. Mutated messages must still never give a 500.
"""

from __future__ import annotations

import base64
import functools
import html
import quopri
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.portal.helpers import csrf_token, seal

#: Words each charset can write (no "-" at a line start, no HTML specials: compared as is).
WORDS = {
    "utf-8": ["Grüße", "Привет", "日本語", "€uro", "naïve", "Ελλάδα"],
    "iso-8859-1": ["Grüße", "Müller", "déjà", "Ærø"],
    "iso-8859-15": ["Preis", "€", "Œuvre", "Köln"],
    "windows-1252": ["“Zitat”", "€", "Straße", "…"],
    "koi8-r": ["Привет", "мир", "Москва"],
    "iso-2022-jp": ["日本語", "テスト", "東京"],
    "gb2312": ["中文", "测试", "北京"],
    "us-ascii": ["Vertrag", "Angebot", "Termin"],
}
BINARY_TYPES = [
    "application/pdf",
    "application/octet-stream",
    "image/png",
    "application/x-unknown-thing",
    "text/calendar",
    "message/delivery-status",
    "message/disposition-notification",
    "message/external-body",
    "message/global",
    "message/rfc822",
    "message/x-other",
]
MULTIPART = ["mixed", "alternative", "related", "x-unknown", "signed"]


@dataclass
class Leaf:
    """A generated leaf: what goes in, and how it is written."""

    content_type: str
    payload: bytes  # the decoded bytes a download must give back
    cte: str
    disposition: str  # "", "inline", "attachment"
    filename: str
    charset: str = ""
    text: str = ""  # for text/plain and text/html: the words a reader must see

    @property
    def is_body(self) -> bool:
        return self.content_type in ("text/plain", "text/html") and not (
            self.disposition == "attachment" or self.filename
        )


@dataclass
class Node:
    """A generated multipart."""

    subtype: str
    children: list[Any] = field(default_factory=list)


@st.composite
def text_leaf(draw: st.DrawFn) -> Leaf:
    charset = draw(st.sampled_from(sorted(WORDS)))
    words = draw(st.lists(st.sampled_from(WORDS[charset]), min_size=1, max_size=6))
    text = " ".join(words)
    kind = draw(st.sampled_from(["text/plain", "text/html"]))
    source = f"<p>{text}</p>" if kind == "text/html" else text
    payload = source.encode(charset)
    cte = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable"]))
    if cte == "7bit" and not payload.isascii():
        cte = "8bit"
    disposition = draw(st.sampled_from(["", "", "inline", "attachment"]))
    filename = draw(st.sampled_from(["", "", "", "notiz.txt"]))
    return Leaf(kind, payload, cte, disposition, filename, charset, text)


@st.composite
def other_leaf(draw: st.DrawFn) -> Leaf:
    kind = draw(st.sampled_from(BINARY_TYPES))
    if kind.startswith("message/"):
        payload = b"From: a@example.com\r\nSubject: inner\r\n\r\n" + draw(
            st.binary(max_size=60)
        ).replace(b"-", b"+")
        cte = draw(st.sampled_from(["8bit", "base64", "quoted-printable"]))
    else:
        payload = draw(st.binary(max_size=300))
        cte = draw(st.sampled_from(["base64", "quoted-printable"]))
    disposition = draw(st.sampled_from(["", "inline", "attachment"]))
    filename = draw(st.sampled_from(["", "datei.bin", "Übersicht.pdf"]))
    return Leaf(kind, payload, cte, disposition, filename)


@functools.cache
def trees() -> st.SearchStrategy[Any]:
    """MIME trees of up to eight leaves.

    One strategy object for every caller: the composite strategies below draw from it for
    each example, and building and validating a recursive strategy anew each time took
    about a third of the parser comparison's time.
    """
    return st.recursive(
        st.one_of(text_leaf(), other_leaf()),
        lambda children: st.builds(
            Node, st.sampled_from(MULTIPART), st.lists(children, min_size=1, max_size=4)
        ),
        max_leaves=8,
    )


def encode_body(leaf: Leaf) -> bytes:
    if leaf.cte == "base64":
        return base64.encodebytes(leaf.payload)
    if leaf.cte == "quoted-printable":
        encoded = quopri.encodestring(leaf.payload)
        if quopri.decodestring(encoded) == leaf.payload:
            return encoded
        leaf.cte = "base64"
        return base64.encodebytes(leaf.payload)
    return leaf.payload


def render(node: Any, counter: list[int]) -> bytes:
    """Write the tree as MIME (header block, blank line, body), CRLF line ends."""
    if isinstance(node, Leaf):
        body = encode_body(node)
        header = f"Content-Type: {node.content_type}"
        if node.charset:
            header += f'; charset="{node.charset}"'
        if node.filename:
            header += f'; name="{node.filename}"'
        lines = [header.encode("utf-8"), f"Content-Transfer-Encoding: {node.cte}".encode()]
        if node.disposition:
            lines.append(f"Content-Disposition: {node.disposition}".encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + body
    counter[0] += 1
    boundary = f"----=_Part_{counter[0]}_=.b"
    # Outlook writes the boundary unquoted, "=" and all.
    head = f"Content-Type: multipart/{node.subtype}; boundary={boundary}\r\n\r\n".encode()
    parts = b"".join(
        b"\r\n--" + boundary.encode() + b"\r\n" + render(child, counter) for child in node.children
    )
    return head + b"preamble" + parts + b"\r\n--" + boundary.encode() + b"--\r\n"


def leaves(node: Any) -> list[Leaf]:
    found: list[Leaf] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Leaf):
            found.append(current)
        else:
            stack.extend(reversed(current.children))
    return found


def shown_leaves(node: Any) -> list[Leaf]:
    """The bodies a reader must see: of an alternative only the best (HTML before text)."""
    if isinstance(node, Leaf):
        return [node] if node.is_body else []
    if node.subtype == "alternative":

        def has(child: Any, kind: str) -> bool:
            return any(leaf.is_body and kind in leaf.content_type for leaf in leaves(child))

        best = next((c for c in reversed(node.children) if has(c, "html")), None) or next(
            (c for c in reversed(node.children) if has(c, "text/")), None
        )
        return shown_leaves(best) if best is not None else []
    return [leaf for child in node.children for leaf in shown_leaves(child)]


def message(tree: Any, subject: bytes) -> bytes:
    return (
        b"From: Berta <berater@bank.example>\r\nTo: kunde@example.com\r\nSubject: "
        + subject
        + b"\r\nMIME-Version: 1.0\r\n"
        + render(tree, [0])
    )


@st.composite
def subjects(draw: st.DrawFn) -> tuple[bytes, str]:
    charset = draw(st.sampled_from(sorted(WORDS)))
    words = draw(st.lists(st.sampled_from(WORDS[charset]), min_size=1, max_size=4))
    text = " ".join(words)
    data = text.encode(charset)
    if draw(st.booleans()):
        encoded = base64.b64encode(data).decode()
        return f"=?{charset}?B?{encoded}?=".encode(), text
    raw = charset == "utf-8" and draw(st.booleans())
    return (data if raw else f"=?{charset}?B?{base64.b64encode(data).decode()}?=".encode()), text


def open_message(client: FlaskClient, runtime: Any, raw: bytes) -> tuple[Any, Any]:
    armored = seal(runtime, raw).armored
    token = csrf_token(client.get("/").data)
    response = client.post("/read", data={"csrf_token": token, "envelope": armored})

    def download(part: str) -> Any:
        return client.post(
            "/download", data={"csrf_token": token, "envelope": armored, "part": part}
        )

    return response, download


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=trees(), subject=subjects())
def test_generated_trees(
    logged_in: FlaskClient, runtime: Any, tree: Any, subject: tuple[bytes, str]
) -> None:
    raw = message(tree, subject[0])
    response, download = open_message(logged_in, runtime, raw)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    seen = html.unescape(page)  # HTML bodies sit escaped in the frame's srcdoc
    assert html.escape(subject[1], quote=False) in page
    for leaf in shown_leaves(tree):
        assert leaf.text in seen, (leaf, raw)
    for number, leaf in enumerate(leaves(tree), start=1):
        if leaf.content_type == "application/ms-tnef":
            continue
        got = download(str(number))
        assert got.status_code == 200
        assert got.data == leaf.payload, (number, leaf)
    assert download("eml").data == raw


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = message(draw(trees()), draw(subjects())[0])
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(
            st.sampled_from([b"\x00", b"\r", b"\n", b"\xff", b"=", b'"', b";", b"-", b"\xe9"])
        )
        if action == "insert":
            raw = raw[:position] + byte + raw[position:]
        elif action == "delete":
            raw = raw[:position] + raw[position + 1 :]
        else:
            raw = raw[:position] + byte + raw[position + 1 :]
    return raw


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=mutated())
def test_mutated_messages_never_fail(logged_in: FlaskClient, runtime: Any, raw: bytes) -> None:
    response, download = open_message(logged_in, runtime, raw)
    assert response.status_code == 200
    for part in ("1", "2", "3", "4", "5"):
        assert download(part).status_code in (200, 404)
    assert download("eml").data == raw
