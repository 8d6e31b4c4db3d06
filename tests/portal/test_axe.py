"""axe-core finds no WCAG 2.1 A/AA violation on any portal page, in English and German,
and no page scrolls sideways on a 360 px phone or at 200 % zoom."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.portal.pagetour import portal_tour
from tests.support.axe import auditor, client_fetch, report

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_portal_page_passes_axe(app: Flask, runtime, tmp_path: Path, lang: str) -> None:
    shots = list(portal_tour(app, runtime, tmp_path, lang))
    assert len(shots) >= 20
    for item in shots:
        assert f'<html lang="{lang}"'.encode() in item.html, item.name
    with auditor(client_fetch(app.test_client())) as check:
        findings = [check.audit(item.name, item.html, csp=item.csp) for item in shots]
    assert not report(findings), report(findings)


def test_the_checks_can_fail(app: Flask) -> None:
    bad = (
        b"<!doctype html><html><head><title>x</title></head><body><main>"
        b'<img src="/nothing.png"><input type="text"><pre>'
        + b"x" * 400
        + b"</pre></main></body></html>"
    )
    with auditor(client_fetch(app.test_client())) as check:
        finding = check.audit("bad", bad)
    text = "\n".join(finding.problems)
    assert "html-has-lang" in text and "image-alt" in text and "label" in text
    assert "at 360 px: scrollWidth" in text
