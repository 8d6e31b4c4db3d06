"""Security headers on every response and per-request size limits."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from portal.context import settings
from portal.limits import size_limits

#: The policy for every page: no inline script anywhere, nothing from other origins.
BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

#: The message view: the sanitized mail (in a sandboxed srcdoc frame, which inherits this
#: policy) keeps its style attributes; scripts stay forbidden, remote content stays blocked.
MESSAGE_POLICY = {**BASE_POLICY, "style-src-attr": "'unsafe-inline'", "img-src": "data:"}

#: Downloads are shown by nobody: a file opened in the browser must not run as a page.
DOWNLOAD_POLICY = {"default-src": "'none'", "sandbox": "", "frame-ancestors": "'none'"}


#: Endpoints whose responses hold nothing personal and may be cached.
CACHEABLE = frozenset({"static", "favicon", "favicon_svg"})


def use_policy(policy: dict[str, str]) -> None:
    """Send `policy` instead of the base policy with the current response."""
    g.csp = policy


def render_policy(policy: dict[str, str]) -> str:
    """Return the Content-Security-Policy header value for `policy`."""
    return "; ".join(f"{name} {value}".strip() for name, value in policy.items())


def is_https() -> bool:
    """Tell whether the portal is served over https (directly or behind a trusted proxy)."""
    return request.is_secure or current_app.config["PREFERRED_URL_SCHEME"] == "https"


def set_headers(response: Response) -> Response:
    """Add the security headers to `response`."""
    headers = response.headers
    headers["Content-Security-Policy"] = render_policy(g.get("csp", BASE_POLICY))
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if is_https():
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint not in CACHEABLE:
        # Pages hold decrypted mail or credentials forms: never keep them in a cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def apply_size_limits() -> None:
    """Size this request's limits for the largest message the admin allows."""

    try:
        largest = int(settings().max_message_size)
    except Exception:  # the keystore being down is reported by the view itself
        return
    request.max_content_length, request.max_form_memory_size = size_limits(largest)


def init_app(app: Flask) -> None:
    """Install the request hooks."""
    app.before_request(apply_size_limits)
    app.after_request(set_headers)
