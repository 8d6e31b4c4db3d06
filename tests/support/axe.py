"""axe-core (WCAG 2.1 A and AA) and the layout checks, in headless Chromium, on pages of our own.

A page is rendered by the application's test client (any state a test can reach: logged
in, a form with errors, a mail); Chromium loads it from a made-up origin whose every other
request (stylesheets, images, the favicon) the same test client answers. So axe sees the
page with its real styles, its colours and its Content-Security-Policy, without a server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.browser import chromium

ORIGIN = "http://portal.test"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG},
    "resultTypes": ["violations"],
    # The mail's own HTML in the sandboxed frame is the adviser's, not ours; it has no script.
    "iframes": False,
}

Fetch = Callable[[str], tuple[int, bytes, str]]
"""Answer a GET of a path: status, body, content type."""


@dataclass
class Finding:
    """What one page did wrong."""

    name: str
    problems: list[str] = field(default_factory=list)


def _violations(results: dict[str, Any]) -> list[str]:
    found = []
    for violation in results.get("violations", []):
        targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


class Auditor:
    """One Chromium page that shows documents we hand it and checks them."""

    def __init__(self, page: Any, fetch: Fetch) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.fetch = fetch
        self.axe = Axe()
        page.set_default_timeout(20_000)
        self.document = b""
        self.headers: dict[str, str] = {}
        page.route(f"{ORIGIN}/**", self._answer)

    def _answer(self, route: Any) -> None:
        url = route.request.url
        path = url[len(ORIGIN) :] or "/"
        if path.startswith("/__page__"):
            route.fulfill(
                status=200, body=self.document, headers=self.headers, content_type="text/html"
            )
            return
        status, body, kind = self.fetch(path)
        route.fulfill(status=status, body=body, content_type=kind)

    def load(self, html: str | bytes, *, width: int = 1280, csp: str = "") -> None:
        """Show `html` at `width` CSS pixels (with `csp` as its Content-Security-Policy)."""
        self.document = html.encode() if isinstance(html, str) else html
        self.headers = {"Content-Security-Policy": csp} if csp else {}
        self.page.set_viewport_size({"width": width, "height": 800})
        self.page.goto(f"{ORIGIN}/__page__", wait_until="load")

    def violations(self) -> list[str]:
        """Run axe-core on the loaded page; return each WCAG 2.1 A/AA violation as text."""
        self.page.evaluate(self.axe.axe_script)
        results = self.page.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
        return _violations(results)

    def overflow(self) -> str:
        """Return why the page scrolls sideways ("" when it does not)."""
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if widths[0] <= widths[1]:
            return ""
        wide = self.page.evaluate(
            """() => {
                 const edge = document.documentElement.clientWidth + 1;
                 return [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > edge)
                   .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id);
               }"""
        )
        return f"scrollWidth {widths[0]} > clientWidth {widths[1]}: {wide}"

    def audit(self, name: str, html: str | bytes, *, csp: str = "") -> Finding:
        """Check `html` with axe at desktop width and for sideways scrolling at 360 and 200 %.

        The narrow widths resize the loaded page rather than load it again: our pages lay
        themselves out with CSS alone, so the layout after a resize is the one a fresh load
        at that width gets.
        """
        finding = Finding(name)
        self.load(html, width=1280, csp=csp)
        finding.problems += self.violations()
        for width in (360, 640):  # a phone, and a 1280 px window zoomed to 200 %
            self.page.set_viewport_size({"width": width, "height": 800})
            if problem := self.overflow():
                finding.problems.append(f"at {width} px: {problem}")
        return finding


def client_fetch(client: Any) -> Fetch:
    """Answer sub-requests (stylesheets, images) with a Flask test client."""

    def fetch(path: str) -> tuple[int, bytes, str]:
        response = client.get(path, follow_redirects=True)
        return response.status_code, response.data, response.content_type or "text/plain"

    return fetch


@contextmanager
def auditor(fetch: Fetch) -> Iterator[Auditor]:
    """Yield an Auditor on a fresh headless Chromium page."""
    with chromium() as browser:
        context = browser.new_context()
        try:
            yield Auditor(context.new_page(), fetch)
        finally:
            context.close()


def report(findings: list[Finding]) -> str:
    """Return the problems of every page, one per line ("" when there are none)."""
    return "\n".join(
        f"{finding.name}: {problem}" for finding in findings for problem in finding.problems
    )
