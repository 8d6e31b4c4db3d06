"""Earlier public addresses of the portal: requests to them go on to the current one.

After the portal moves to a new host name, notification links and secure.htm files sent
before the move still name the old address. Each address in `portal.public_url_aliases`
is matched by its host (and port); the request is redirected to `portal.public_url` with
its path and query kept. GET and HEAD get 301; every other method gets 308, which keeps
the method and the body, so the button in an old secure.htm (a POST) still opens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.utils import redirect
from werkzeug.wrappers import Request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DEFAULT_PORTS = {"http": 80, "https": 443}


def host_key(host: str, scheme: str) -> str:
    """Return `host` as "name:port" in lower case, with the scheme's default port filled in."""
    try:
        parts = urlsplit(f"//{host.strip()}")
        port = parts.port
    except ValueError:  # a port that is not a number: matches nothing
        return ""
    return f"{parts.hostname or ''}:{port or DEFAULT_PORTS.get(scheme, 80)}"


def alias_hosts(aliases: Iterable[str]) -> frozenset[str]:
    """Return the host keys of the configured alias URLs."""
    keys = set()
    for alias in aliases:
        parts = urlsplit(alias)
        if parts.netloc:
            keys.add(host_key(parts.netloc, parts.scheme))
    return frozenset(keys)


class AliasRedirect:
    """WSGI middleware: send requests for an alias host on to the public URL."""

    def __init__(self, app: WSGIApplication, public_url: str, aliases: Iterable[str]) -> None:
        self.app = app
        self.public_url = public_url.rstrip("/")
        parts = urlsplit(self.public_url)
        self.canonical = host_key(parts.netloc, parts.scheme)
        self.hosts = alias_hosts(aliases) - {self.canonical}

    def target(self, request: Request) -> str | None:
        """Return where `request` is redirected to, or None when it stays here."""
        if not self.hosts or host_key(request.host, request.scheme) not in self.hosts:
            return None
        query = request.query_string.decode("latin-1")
        return self.public_url + request.path + (f"?{query}" if query else "")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        location = self.target(request)
        if location is None:
            return self.app(environ, start_response)
        code = 301 if request.method in ("GET", "HEAD") else 308
        response = redirect(location, code)
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)
