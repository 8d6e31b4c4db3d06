"""Security headers, CSRF, rate limits, size limits, an unreachable keystore, HTML mail XSS."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from keystore.errors import KeystoreUnavailable
from tests.portal.conftest import TEST_CONFIG, login, make_runtime
from tests.portal.helpers import build_mail, csrf_token, seal


def _policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


@pytest.mark.parametrize("path", ["/", "/login", "/login/pin", "/forgot", "/upload", "/nowhere"])
def test_security_headers_on_every_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"]
    assert "unsafe-inline" not in policy.get("style-src", "")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain http here
    assert response.headers["Cache-Control"] == "no-store"


def test_no_inline_script_or_style_in_pages(client: FlaskClient) -> None:
    for path in ("/", "/login", "/login/pin", "/forgot"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and " style=" not in page and "<style" not in page
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None


def test_https_sends_hsts_and_secure_cookies(tmp_path: Path, clock) -> None:
    from portal import create_app

    runtime = make_runtime(
        tmp_path, clock, WEBCRYPT_PORTAL_PUBLIC_URL="https://secure.bank.example"
    )
    app = create_app(runtime, dict(TEST_CONFIG))
    client = app.test_client()
    response = client.get("/login", base_url="https://secure.bank.example")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]
    runtime.close()


def test_state_changing_forms_need_the_csrf_token(client: FlaskClient, account: str) -> None:
    for path in (
        "/login",
        "/login/pin",
        "/forgot",
        "/forgot/link",
        "/forgot/answer",
        "/logout",
        "/read",
        "/download",
        "/upload",
        "/reply",
        "/reply/send",
        "/write",
        "/setup",
        "/profile/password",
        "/profile/question",
        "/profile/phrase",
        "/profile/language",
    ):
        response = client.post(path, data={"email": account, "password": "x"})
        assert response.status_code == 400, path
        assert b"The form has expired" in response.data


def test_the_cross_site_open_needs_no_token(client: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    response = client.post("/open", data={"envelope": sealed.armored}, headers={"Origin": "null"})
    assert response.status_code == 200


def test_login_rate_limit(app, account: str) -> None:
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    client = app.test_client()
    statuses = [login(client, password="wrong password").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    page = client.get("/login")
    response = client.post(
        "/login", data={"csrf_token": csrf_token(page.data), "email": "a@b.c", "password": "x"}
    )
    assert response.status_code == 429
    assert b"Too many attempts" in response.data


def test_open_rate_limit_is_per_address(app) -> None:
    app.config["RATELIMIT_OPEN"] = "2 per minute"
    client = app.test_client()
    first = [client.post("/open", data={"envelope": "x"}).status_code for _ in range(3)]
    assert first == [400, 400, 429]
    other = client.post("/open", data={"envelope": "x"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 400


def test_oversized_form_field_gets_a_friendly_page(client: FlaskClient) -> None:
    # A text field above the limit for a 10 MB message (multipart: limited per field) ...
    response = client.post(
        "/open", data={"envelope": "A" * (20 * 1024 * 1024)}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert b"The file is too large" in response.data
    # ... and a urlencoded body above the request limit.
    response = client.post("/open", data={"envelope": "A" * (29 * 1024 * 1024)})
    assert response.status_code == 413


def test_keystore_unavailable_shows_try_again_later(
    app, runtime, monkeypatch: pytest.MonkeyPatch, account: str
) -> None:
    def unavailable():  # type: ignore[no-untyped-def]
        raise KeystoreUnavailable("database is down")

    client = app.test_client()
    page = client.get("/login")
    monkeypatch.setattr(runtime.keystore, "session", unavailable)
    response = client.post(
        "/login", data={"csrf_token": csrf_token(page.data), "email": account, "password": "x" * 12}
    )
    assert response.status_code == 503
    assert b"Please try again later" in response.data
    assert b"Traceback" not in response.data


def test_language_switch_rejects_foreign_targets(client: FlaskClient) -> None:
    response = client.get("/language/de?next=//evil.example/")
    assert response.headers["Location"] == "/"
    assert client.get("/language/fr").status_code == 404


XSS_PAYLOADS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<div style="width: expression(alert(1))">css</div>',
    '<div style="background-image: url(javascript:alert(1))">css</div>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name="password"></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    "<style>body { background: url(https://track.example/x.png) }</style>",
    '<img src="https://track.example/pixel.gif">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<body onload="alert(1)">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_html_mail_is_sanitized(logged_in: FlaskClient, runtime, payload: str) -> None:
    raw = build_mail(html_body=f"<html><body><p>Hallo</p>{payload}<p>Ende</p></body></html>")
    sealed = seal(runtime, raw)
    token = csrf_token(logged_in.get("/").data)
    response = logged_in.post("/read", data={"csrf_token": token, "envelope": sealed.armored})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    frame = re.search(r'<iframe class="mail-frame"([^>]*)>', page)
    assert frame is not None
    attributes = frame.group(1)
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in attributes
    document = html.unescape(re.search(r'srcdoc="([^"]*)"', attributes).group(1)).lower()
    assert "hallo" in document
    for forbidden in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "expression(",
        "<svg",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<meta http",
        "<base href",
        "<style",
        "track.example",
        "evil.example",
        "<math",
        '<link rel="stylesheet" href="https',
    ):
        assert forbidden not in document, forbidden
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["img-src"] == "data:"
    # Outside the frame, the page itself carries no script either.
    outside = page.replace(frame.group(0), "")
    assert "alert(" not in outside


def test_remote_images_are_blocked_and_counted(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(html_body='<p>x</p><img src="https://a.example/1.png"><img src="http://b/2">')
    sealed = seal(runtime, raw)
    token = csrf_token(logged_in.get("/").data)
    page = logged_in.post("/read", data={"csrf_token": token, "envelope": sealed.armored})
    assert b"2 remote images were blocked" in page.data
    assert b"a.example" not in page.data


def test_links_open_outside_with_no_referrer(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(html_body='<a href="https://bank.example/info">Info</a>')
    sealed = seal(runtime, raw)
    token = csrf_token(logged_in.get("/").data)
    page = logged_in.post("/read", data={"csrf_token": token, "envelope": sealed.armored})
    document = html.unescape(page.get_data(as_text=True))
    assert 'href="https://bank.example/info"' in document
    assert 'rel="noopener noreferrer"' in document


def test_rate_limits_follow_the_client_behind_a_trusted_proxy(runtime) -> None:
    from portal import create_app

    app = create_app(
        runtime, {**TEST_CONFIG, "TRUSTED_PROXIES": 1, "RATELIMIT_OPEN": "1 per minute"}
    )
    client = app.test_client()
    first = client.post("/open", data={"envelope": "x"}, headers={"X-Forwarded-For": "203.0.113.1"})
    again = client.post("/open", data={"envelope": "x"}, headers={"X-Forwarded-For": "203.0.113.1"})
    other = client.post("/open", data={"envelope": "x"}, headers={"X-Forwarded-For": "203.0.113.2"})
    assert (first.status_code, again.status_code, other.status_code) == (400, 429, 400)


def test_rate_limits_are_shared_through_redis(runtime) -> None:
    """Two portal instances on one Redis count one client's attempts together."""
    import uuid

    from portal import create_app
    from tests.support.components import need, port_open

    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    config = {
        **TEST_CONFIG,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_OPEN": "2 per minute",
    }
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    first, second = (create_app(runtime, dict(config)).test_client() for _ in range(2))
    base = {"environ_base": {"REMOTE_ADDR": address}}
    statuses = [
        first.post("/open", data={"envelope": "x"}, **base).status_code,
        second.post("/open", data={"envelope": "x"}, **base).status_code,
        first.post("/open", data={"envelope": "x"}, **base).status_code,
    ]
    assert statuses == [400, 400, 429]
