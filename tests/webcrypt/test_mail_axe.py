"""axe-core finds no WCAG 2.1 A/AA violation in any mail we send (the HTML part of every
notice and of the carrier) nor in secure.htm, in English and German."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from keystore.settings import Settings
from tests.portal import conftest as portal_fixtures
from tests.portal.helpers import build_mail, seal
from tests.support.axe import Finding, auditor, report
from tests.webcrypt.test_notices import KINDS, build, parsed
from webcrypt import envelope
from webcrypt.sealing.carrier import Adviser, readable_parts
from webcrypt.sealing.securehtm import render_secure_htm

pytestmark = pytest.mark.browser
clock = portal_fixtures.clock
runtime = portal_fixtures.runtime
LANGS = ("en", "de")


def no_fetch(path: str) -> tuple[int, bytes, str]:
    return 404, b"", "text/plain"


def html_of(mail: EmailMessage) -> str | None:
    """The HTML part of a mail; None for a plain-text mail (a screen reader's best case)."""
    part = mail.get_body(("html", "plain"))
    assert part is not None, "the mail has no body"
    if part.get_content_type() == "text/plain":
        assert mail["Content-Language"], "a plain-text notice must name its language"
        return None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_every_notice_and_the_carrier_pass_axe() -> None:
    documents: list[tuple[str, str]] = []
    for lang in LANGS:
        for name in KINDS:
            html = html_of(parsed(build(name, lang)))
            if html is not None:
                documents.append((f"{name}.{lang}", html))
        for neutral in (False, True):
            _, html = readable_parts(
                adviser=Adviser("berater@bank.example", "Erika Berater"),
                settings=Settings(product_name="Sichere Post"),
                portal_url="https://portal.bank.example",
                langs=(lang, "de" if lang == "en" else "en"),
                neutral=neutral,
            )
            documents.append((f"carrier.{lang}{' neutral' if neutral else ''}", html))
    with auditor(no_fetch) as check:
        findings: list[Finding] = [check.audit(name, html) for name, html in documents]
    assert not report(findings), report(findings)


def test_secure_htm_passes_axe(runtime) -> None:
    sealed = seal(runtime, build_mail())
    header = envelope.parse(sealed.armored).header
    with auditor(no_fetch) as check:
        findings = [
            check.audit(f"secure.htm {lang}", render_secure_htm(sealed.armored, header, lang=lang))
            for lang in LANGS
        ]
    assert not report(findings), report(findings)
