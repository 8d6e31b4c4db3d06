"""A minimal cookie-keeping HTTP client that fills in the portal's forms like a browser.

Enough for the end-to-end suites: it keeps the session cookie across portal
instances (as one browser behind a load balancer would), and reads the hidden
fields of the last page (CSRF token, the carried envelope) to post them back.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

PASSWORD = "Velvet-Harbour-Lantern-93"
"""The password test recipients choose on their first login."""


class _Inputs(HTMLParser):
    """Collects the hidden inputs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.hidden.setdefault(str(values["name"]), values.get("value") or "")
        if tag == "textarea" and values.get("name") == "envelope":
            self._envelope = True

    def handle_data(self, data: str) -> None:
        if getattr(self, "_envelope", False):
            self.hidden["envelope"] = self.hidden.get("envelope", "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._envelope = False


@dataclass
class Page:
    """One response: status, final URL and body."""

    status: int
    url: str
    text: str
    hidden: dict[str, str] = field(default_factory=dict)


class Browser:
    """Sends requests with one cookie jar; `last` is the most recent page."""

    def __init__(self, forwarded_for: str | None = None) -> None:
        """`forwarded_for`: the client address a trusted proxy in front would report."""
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        if forwarded_for:
            self.opener.addheaders.append(("X-Forwarded-For", forwarded_for))
        self.last: Page | None = None

    def get(self, url: str) -> Page:
        """GET `url`."""
        return self._send(urllib.request.Request(url))

    def post(self, url: str, fields: dict[str, str], *, carry: bool = True) -> Page:
        """POST `fields`; with `carry`, the last page's hidden fields go along (CSRF token)."""
        data = dict(self.last.hidden) if carry and self.last else {}
        data.update(fields)
        body = urllib.parse.urlencode(data).encode()
        return self._send(urllib.request.Request(url, data=body, method="POST"))

    def _send(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=30) as response:
                page = Page(int(response.status), response.url, response.read().decode())
        except urllib.error.HTTPError as exc:
            page = Page(int(exc.code), exc.url, exc.read().decode(errors="replace"))
        parser = _Inputs()
        parser.feed(page.text)
        page.hidden = parser.hidden
        self.last = page
        return page


def first_login(browser: Browser, portal: str, envelope: str, address: str, pin: str) -> Page:
    """Open `envelope` on `portal` as a new recipient: PIN login, choose a password, read."""
    page = browser.post(f"{portal}/open", {"envelope": envelope}, carry=False)
    assert page.status == 200 and "csrf_token" in page.hidden, page.text[:2000]
    page = browser.post(f"{portal}/login/pin", {"email": address, "pin": pin})
    assert page.status == 200, page.text[:2000]
    return browser.post(
        f"{portal}/setup",
        {
            "new_password": PASSWORD,
            "confirm": PASSWORD,
            "question": "first_pet",
            "answer": "Rex the dog",
            "phrase": "Green kettle on the balcony",
        },
    )
