"""The MIME tree split on raw bytes agrees with the email package, part for part.

The portal cuts parts out of the raw message itself (so message/* parts download as
written, and nothing recurses); the email package's compat32 parser is the reference for
where a part begins and ends and what its decoded bytes are.
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.mimeview import parse
from tests.portal.test_mimeview_property import message, mutated, subjects, trees


def reference_leaves(raw: bytes) -> list[tuple[str, bytes | None]]:
    """(type, decoded bytes) of every leaf as the email package sees it; message/* is one
    leaf (None: the package re-parses it, the portal keeps its bytes)."""
    root = BytesParser(policy=compat32).parsebytes(raw)
    found: list[tuple[str, bytes | None]] = []
    stack: list[Message] = [root]
    while stack:
        part = stack.pop()
        if part.get_content_maintype() == "message":
            found.append((part.get_content_type(), None))
        elif part.is_multipart():
            payload: Any = part.get_payload()
            stack.extend(reversed(payload))
        else:
            found.append((part.get_content_type(), part.get_payload(decode=True)))
    return [_comparable(kind, data) for kind, data in found]


def _comparable(kind: str, data: bytes | None) -> tuple[str, bytes | None]:
    # A multipart without parts: the email package keeps the line end before the
    # boundary that ends it (only there); RFC 2046 gives it to the boundary, as the
    # portal does.
    if kind.startswith("multipart/") and data is not None:
        data = data.rstrip(b"\r\n")
    # 8-bit bytes in a type: the package shows U+FFFD, the portal keeps the bytes.
    return (kind if kind.isascii() else "8-bit"), data


def portal_leaves(raw: bytes) -> list[tuple[str, bytes | None]]:
    tree = parse(raw)
    return [
        _comparable(
            part.content_type,
            None if part.content_type.startswith("message/") else tree.decoded(part),
        )
        for part in tree.leaves()
    ]


@st.composite
def variants(draw: st.DrawFn) -> bytes:
    raw = message(draw(trees()), draw(subjects())[0])
    eol = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    raw = raw.replace(b"\r\n", eol)
    if draw(st.booleans()):  # the closing boundary lost, as when a mail is cut off
        cut = raw.rfind(b"--" + eol)
        raw = raw[:cut] if cut > 0 else raw
    return raw


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(raw=variants())
def test_parts_agree_with_the_email_package(raw: bytes) -> None:
    assert portal_leaves(raw) == reference_leaves(raw)


def test_boundary_edge_cases_agree() -> None:
    head = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    bodies = [
        b"--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\n",
        b"--b\r\n--b\r\n\r\nafter an empty part\r\n--b--",
        b"preamble\r\n--b  \r\n\r\nblanks after the boundary\r\n--b--  \r\nepilogue",
        b"--bx\r\n\r\nnot a boundary\r\n--b\r\n\r\nreal\r\n--b--",
        b"--b\n\nLF\n--b\r\n\r\nCRLF\r\n--b\r\rCR\r--b--",
        b"--b\r\nContent-Type: text/plain\r\nno blank line\r\n--b--\r\n",
        b"no boundary at all\r\n",
        b"--b\r\n\r\nnot closed\r\n",
    ]
    for body in bodies:
        assert portal_leaves(head + body) == reference_leaves(head + body), body


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(raw=mutated())
def test_mutated_parts_agree_with_the_email_package(raw: bytes) -> None:
    assert portal_leaves(raw) == reference_leaves(raw)
