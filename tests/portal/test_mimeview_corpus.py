"""The fidelity corpus through the real portal: each message sealed, opened, downloaded.

For every corpus message: the read page opens (no 500), shows the decoded Subject and the
header texts the corpus names, shows every text meant to be read, and every file it
names is offered and downloads byte-identical; the .eml download is the message itself.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.corpus.build import Spec, catalogue
from tests.corpus.mime import Download, Shown
from tests.portal.helpers import csrf_token, seal

SPECS = catalogue()


class _Text(HTMLParser):
    """The text a browser shows of an HTML document (no head, style or script)."""

    HIDDEN = frozenset({"script", "style", "title", "head", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def visible(document: str) -> str:
    parser = _Text()
    parser.feed(document)
    parser.close()
    return "".join(parser.out)


def collapse(text: str) -> str:
    return " ".join(text.split())


def read_texts(page: str) -> str:
    """What the reader sees of the bodies: the plain parts and the framed HTML parts."""
    texts = [
        html.unescape(m) for m in re.findall(r'<pre class="mail-text">(.*?)</pre>', page, re.S)
    ]
    texts += [visible(html.unescape(m)) for m in re.findall(r'srcdoc="([^"]*)"', page)]
    return collapse(" ".join(texts))


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_corpus_message(logged_in: FlaskClient, runtime: Any, spec: Spec) -> None:
    armored = seal(runtime, spec.raw).armored
    token = csrf_token(logged_in.get("/").data)
    response = logged_in.post("/read", data={"csrf_token": token, "envelope": armored})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    headers = collapse(html.unescape(page.split('class="headers"', 1)[-1].split("</dl>", 1)[0]))
    assert collapse(spec.subject) in collapse(html.unescape(page))
    for text in spec.shown:
        assert collapse(text) in headers or collapse(text) in collapse(html.unescape(page))
    seen = read_texts(page)
    for shown in (e for e in spec.expect if isinstance(e, Shown)):
        expected = visible(shown.text) if shown.html else shown.text
        assert collapse(expected) in seen, shown

    offered = re.findall(r'name="part" value="([0-9.]+)"', page)
    downloads = {}
    for part in offered:
        got = logged_in.post(
            "/download", data={"csrf_token": token, "envelope": armored, "part": part}
        )
        assert got.status_code == 200, part
        downloads[part] = got.data
    for wanted in (e for e in spec.expect if isinstance(e, Download)):
        if wanted.data in downloads.values():
            continue
        if wanted.either_text is not None and collapse(wanted.either_text) in seen:
            continue
        if wanted.inner and all(inner in downloads.values() for inner in wanted.inner):
            continue
        pytest.fail(f"not offered byte-identical: {wanted.content_type}, {len(wanted.data)} B")
    eml = logged_in.post(
        "/download", data={"csrf_token": token, "envelope": armored, "part": "eml"}
    )
    assert eml.data == spec.raw
