"""Generated MIME trees through the real filter and the portal, checked like the corpus.

Hypothesis builds messages with the corpus writer (`tests/corpus/mime.py`): text parts in
the corpus charsets and every transfer encoding, files, attached messages, nested
multiparts, CRLF or LF line ends. The writer records what a reader must get from each part,
so the oracle's checks apply unchanged: sealed with the trigger in the envelope, the
decrypted message is the input, the read page shows every text, every file downloads
byte for byte, and the .eml download is the decrypted message.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from tests.corpus.build import ADVISER, Spec, catalogue, headers
from tests.corpus.mime import CRLF, LF, Part, embedded, file, message, multipart, text
from tests.corpus.oracle import (
    SECURE,
    Gateway,
    assert_no_plaintext,
    assert_reading,
    compare_inner,
    generated,
    read_through_portal,
    wire,
)
from tests.corpus.shapes_charsets import SAMPLES
from tests.filter.helpers import carriers, open_carrier

TREES = generated(max_examples=15)
SUBJECT = "Erzeugte Nachricht"
NAMES = ["vertrag.pdf", "Übersicht.xlsx", "scan 01.jpg", "daten.bin", "notiz.txt"]
TYPES = ["application/pdf", "application/octet-stream", "image/jpeg", "text/csv", "audio/mpeg"]


@st.composite
def text_parts(draw: st.DrawFn, eol: bytes, *, role: str = "shown") -> Part:
    """A text part in one of the corpus charsets and transfer encodings."""
    sample = draw(st.sampled_from(SAMPLES))
    html = draw(st.booleans())
    content = sample.body
    if html:
        content = "<div>" + content.replace("\n", "<br>\n") + "</div>\n"
    ctes = ["quoted-printable", "base64", "8bit" if sample.eight_bit else "7bit"]
    return text(
        content,
        subtype="html" if html else "plain",
        charset=sample.charset,
        codec=sample.codec,
        cte=draw(st.sampled_from(ctes)),
        eol=eol,
        role=role,
    )


@st.composite
def file_parts(draw: st.DrawFn, eol: bytes) -> Part:
    """An attachment: random bytes, a type, a name, base64 or (for text) quoted-printable."""
    data = draw(st.binary(min_size=0, max_size=2000))
    return file(
        data,
        draw(st.sampled_from(TYPES)),
        name=draw(st.sampled_from(NAMES)),
        cte="base64",
        eol=eol,
    )


@st.composite
def attached_messages(draw: st.DrawFn, eol: bytes) -> Part:
    """A message/rfc822 part holding a small message of its own."""
    inner, _ = message(
        headers("Innen", message_id="inner@bank.example"),
        draw(text_parts(eol, role="none")),
        eol=eol,
    )
    return embedded(inner, eol=eol, disposition="attachment")


def _alternative(draw: st.DrawFn, eol: bytes, boundary: str) -> Part:
    sample = draw(st.sampled_from(SAMPLES))
    plain = text(sample.body, charset=sample.charset, codec=sample.codec, eol=eol)
    plain.expect = []  # the HTML alternative is the one shown
    html = text(
        "<p>" + sample.body.replace("\n", "<br>") + "</p>",
        subtype="html",
        charset=sample.charset,
        codec=sample.codec,
        eol=eol,
    )
    return multipart("alternative", [plain, html], boundary=boundary, eol=eol)


@st.composite
def trees(draw: st.DrawFn, *, anything: bool) -> tuple[bytes, list, str]:
    """A message: one body first, then files (also nested); or texts and messages anywhere."""
    eol = draw(st.sampled_from([CRLF, CRLF, LF]))
    counter = iter(range(1000))

    def boundary() -> str:
        return f"=_tree_{next(counter)}_"

    def attachments(depth: int) -> list[Part]:
        parts: list[Part] = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["file", "file", "message", "nested", "text"]))
            if not anything and kind in ("message", "text"):
                kind = "file"
            if kind == "nested" and depth < 3:
                parts.append(
                    multipart("mixed", attachments(depth + 1), boundary=boundary(), eol=eol)
                )
            elif kind == "message":
                parts.append(draw(attached_messages(eol)))
            elif kind == "text":
                parts.append(draw(text_parts(eol)))
            else:
                parts.append(draw(file_parts(eol)))
        return parts

    first = _alternative(draw, eol, boundary()) if draw(st.booleans()) else draw(text_parts(eol))
    body = multipart("mixed", [first, *attachments(0)], boundary=boundary(), eol=eol)
    fields = headers(SUBJECT, message_id="tree@bank.example")
    return (*message(fields, body, eol=eol), SUBJECT)


def _check(gateway: Gateway, raw: bytes, expect: list, subject: str) -> None:
    spec = Spec("tree", raw, expect, "generated", "generated", subject)
    sent = wire(raw)
    reply = gateway.send(sent, mail_from=ADVISER, rcpt_tos=[SECURE])
    assert reply.code == 250, f"{reply.code} {reply.text}"
    (carrier,) = carriers(reply.received)
    assert_no_plaintext(spec, sent, reply.received)
    inner = open_carrier(gateway.runtime, carrier)
    compare_inner(spec, sent, inner)
    assert_reading(spec, read_through_portal(gateway, carrier), inner, spec.subject)


@TREES
@given(tree=trees(anything=False))
def test_generated_mail_with_one_body(gateway: Gateway, tree) -> None:
    _check(gateway, *tree)


def _corpus_tree(name: str) -> tuple[bytes, list, str]:
    """A corpus message as an explicit example (keeps the expected failure deterministic)."""
    (spec,) = [s for s in catalogue() if s.name == name]
    return spec.raw, spec.expect, spec.subject


@TREES
@example(tree=_corpus_tree("d04-mailman-footer-part"))
@given(tree=trees(anything=True))
def test_generated_mail_with_texts_anywhere(gateway: Gateway, tree) -> None:
    _check(gateway, *tree)
