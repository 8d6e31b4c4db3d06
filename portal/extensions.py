"""Flask extensions of one portal application: CSRF, translations, rate limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from portal import metrics

LANGUAGES = ("en", "de")
LANGUAGE_KEY = "lang"

#: endpoint -> config key holding its per-address limit ("10 per minute;60 per hour").
RATE_LIMITS = {
    "auth.login": "RATELIMIT_LOGIN",
    "auth.login_pin": "RATELIMIT_LOGIN",
    "auth.forgot": "RATELIMIT_LOGIN",
    "auth.forgot_link_use": "RATELIMIT_LOGIN",
    "auth.forgot_answer": "RATELIMIT_LOGIN",
    "profile.change_password": "RATELIMIT_LOGIN",
    "profile.change_question": "RATELIMIT_LOGIN",
    "reader.open_post": "RATELIMIT_OPEN",
    "reader.upload": "RATELIMIT_OPEN",
    "reply.send": "RATELIMIT_SEND",
    "reply.write": "RATELIMIT_SEND",
}

#: endpoint -> what a refused (rate-limited) post to it counts as.
BREACH_COUNTERS: dict[str, Callable[[str], None]] = {
    "auth.login": metrics.login,
    "auth.login_pin": metrics.login,
    "auth.forgot_answer": metrics.login,
    "reply.send": metrics.reply,
    "reply.write": metrics.reply,
}

#: endpoints that accept a cross-site post: they change no state and only show the next step.
CSRF_EXEMPT = ("reader.open_post",)


def select_locale() -> str:
    """Pick the language: the visitor's choice, else the browser's, else the admin default."""
    chosen = session.get(LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    from portal.context import settings

    try:
        default = settings().default_language
    except Exception:  # the settings are a nicety here; never fail a page over them
        default = "en"
    return default if default in LANGUAGES else "en"


def init_app(app: Flask) -> None:
    """Attach CSRF protection, Babel and the rate limiter to `app`."""
    csrf = CSRFProtect(app)
    app.extensions["portal.csrf"] = csrf
    Babel(app, locale_selector=select_locale)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        key_prefix="webcrypt-portal",
    )
    app.extensions["portal.limiter"] = limiter


def apply_rate_limits(app: Flask) -> None:
    """Put the per-address limits on the registered views and exempt the cross-site post."""
    limiter: Limiter = app.extensions["portal.limiter"]
    csrf: CSRFProtect = app.extensions["portal.csrf"]
    for endpoint, key in RATE_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            limited: Any = limiter.limit(
                _configured(key), methods=["POST"], on_breach=_count_breach
            )(view)
            app.view_functions[endpoint] = limited
    for endpoint in CSRF_EXEMPT:
        csrf.exempt(app.view_functions[endpoint])


def _count_breach(limit: Any) -> None:
    """Count a post refused by a rate limit (the limiter then answers 429 as usual)."""
    count = BREACH_COUNTERS.get(request.endpoint or "")
    if count is not None:
        count("rate_limited")


def _configured(key: str) -> Callable[[], str]:
    """Return a callable reading the limit from the app config at request time."""
    return lambda: str(current_app.config[key])
