"""The recipients' web portal: open, log in, read, download and reply, holding no content.

`create_app()` builds the Flask application; `create_server()` and `serve()` run it under
waitress, the production WSGI server used by `webcrypt serve` and `webcrypt portal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from waitress.server import create_server as waitress_server
from werkzeug.middleware.proxy_fix import ProxyFix

from keystore.errors import KeystoreError
from portal import admin, errors, extensions, health, security, views
from portal.context import RUNTIME_KEY
from portal.hostalias import AliasRedirect
from portal.limits import DEFAULT_MAX_MESSAGE_SIZE, size_limits
from portal.wrappers import PortalRequest, PortalSessionInterface
from webcrypt.bootstrap import read_session_secret
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime

if TYPE_CHECKING:
    from waitress.server import BaseWSGIServer, MultiSocketServer


__all__ = ["create_app", "create_server", "serve"]

BLUEPRINTS = (
    "portal.auth",
    "portal.reader",
    "portal.reply",
    "portal.profile",
    "portal.withdrawlink",
    "portal.inbox",
)


def create_app(
    runtime: Runtime | None = None, test_config: Mapping[str, object] | None = None
) -> Flask:
    """Create the portal application around `runtime` (built from the configuration if None)."""

    if runtime is None:
        runtime = Runtime(load_config())

    app = Flask(__name__, instance_relative_config=False)
    app.request_class = PortalRequest
    app.session_interface = PortalSessionInterface()
    app.extensions[RUNTIME_KEY] = runtime
    config = runtime.config
    public_url = str(config.portal.public_url).rstrip("/")
    https = public_url.startswith("https://")
    content_length, form_memory = size_limits(DEFAULT_MAX_MESSAGE_SIZE)
    app.config.from_mapping(
        PUBLIC_URL=public_url,
        PREFERRED_URL_SCHEME="https" if https else "http",
        SESSION_COOKIE_NAME="webcrypt",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=content_length,
        MAX_FORM_MEMORY_SIZE=form_memory,
        # Tokens live as long as the session; no Referer check because every page sends
        # `Referrer-Policy: no-referrer` (the token and SameSite cookies carry the protection).
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        RATELIMIT_STORAGE_URI=str(config.portal.ratelimit_storage),
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_LOGIN="10 per minute;60 per hour",
        RATELIMIT_OPEN="60 per minute",
        RATELIMIT_SEND="10 per minute;60 per hour",
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        TRUSTED_PROXIES=int(getattr(config.portal, "trusted_proxies", 0) or 0),
    )
    if test_config is None or "SECRET_KEY" not in test_config:
        app.config["SECRET_KEY"] = read_session_secret(config)
    if test_config:
        app.config.from_mapping(test_config)

    aliases = tuple(getattr(config.portal, "public_url_aliases", ()) or ())
    if aliases:
        # Inside ProxyFix, so that the host a trusted proxy forwards is the one compared.
        app.wsgi_app = AliasRedirect(app.wsgi_app, public_url, aliases)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to add WSGI middleware replaces the wsgi_app method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    extensions.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    views.init_app(app)
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(name).bp)
    admin.register(app)
    extensions.apply_rate_limits(app)
    return app


def create_server(
    runtime: Runtime, *, listen: str | None = None, threads: int | None = None
) -> MultiSocketServer | BaseWSGIServer:
    """Return a waitress server for the portal (call `.run()` to serve, `.close()` to stop).

    Request and response bodies stay in memory (waitress would otherwise spool anything
    above 512 KB / 1 MB to temporary files, and a rendered message must never touch disk).
    """

    app = create_app(runtime)
    config = runtime.config
    try:
        largest = int(runtime.settings().max_message_size)
    except KeystoreError:  # start anyway; pages say "try again later" until the database is back
        largest = DEFAULT_MAX_MESSAGE_SIZE
    # Twice the largest request, so a limit raised later by an admin still fits in memory.
    in_memory = size_limits(max(largest, DEFAULT_MAX_MESSAGE_SIZE))[0] * 2
    return waitress_server(
        app,
        listen=listen or str(config.portal.listen),
        threads=threads or int(config.portal.threads),
        ident="WebCrypt",
        inbuf_overflow=in_memory,
        outbuf_overflow=in_memory,
        max_request_body_size=in_memory,
        # With trusted proxies, ProxyFix reads X-Forwarded-*; waitress must pass them on.
        clear_untrusted_proxy_headers=not int(config.portal.trusted_proxies),
    )


def serve(runtime: Runtime, *, listen: str | None = None, threads: int | None = None) -> None:
    """Serve the portal with waitress until the process is stopped."""
    create_server(runtime, listen=listen, threads=threads).run()
