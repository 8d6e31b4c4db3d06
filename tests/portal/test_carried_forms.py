"""Every form that carries the envelope posts it as multipart/form-data, and every page
carries it escaped.

A browser percent-encodes a URL-encoded form: base64's "+", "/" and "=" and every line
end become three characters each, and decoding that takes the server about forty times
longer than reading the same field from a multipart body (over half a second of CPU for
a 10 MB message, on every read, download and login).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.portal.conftest import login
from tests.portal.helpers import build_mail, hidden, seal
from webcrypt.envelope.armor import SEPARATOR

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)


def carrying_forms() -> list[tuple[str, str]]:
    """(template, form tag) of every form in the portal's templates that carries the envelope."""
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for tag, content in FORM.findall(template.read_text(encoding="utf-8")):
            if "carried(" in content or 'name="envelope"' in content:
                found.append((str(template.relative_to(TEMPLATES)), tag))
    return found


def test_the_templates_have_forms_that_carry_the_envelope() -> None:
    names = {name for name, _ in carrying_forms()}
    assert {"reader/open.html", "reader/message.html", "auth/login.html"} <= names


@pytest.mark.parametrize(("template", "tag"), carrying_forms())
def test_a_form_that_carries_the_envelope_posts_multipart(template: str, tag: str) -> None:
    assert 'enctype="multipart/form-data"' in tag, template


@pytest.mark.parametrize("logged_in_first", [True, False])
def test_a_carried_envelope_with_markup_is_escaped(
    client: FlaskClient, account: str, runtime, logged_in_first: bool
) -> None:
    # The header parses; what is between it and the end line is not looked at before
    # decrypting, so a page that only carries the envelope on carries this as it is.
    armored = seal(runtime, build_mail()).armored
    start = armored.index(SEPARATOR) + len(SEPARATOR) + 1  # the first payload line
    forged = armored[:start] + '"><script>alert(1)</script>&amp;\n' + armored[start:]
    if logged_in_first:  # the page that asks to open it; else the login page
        assert login(client).status_code == 302
    page = client.post(
        "/open",
        data={"envelope": forged},
        headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ).data.decode()
    assert "<script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page
    assert hidden(page, "envelope") == forged.strip()
