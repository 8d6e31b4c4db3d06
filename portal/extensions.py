"""Flask extensions of one portal application: CSRF, translations, rate limits.

Rate limits and CSRF exemptions are declared on the view they protect::

    @bp.route("/login", methods=["GET", "POST"])
    @limited("login", counts=metrics.login)
    def login(): ...

The declarations are applied to each application by `apply_rate_limits` when it is
created; a limit name that is not in `LIMITS` stops the application from starting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask_babel import Babel, refresh
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from keystore.languages import LANGUAGES
from portal.context import settings

LANGUAGE_KEY = "lang"
_ACCOUNT_LANGUAGE = "account_language"

View = TypeVar("View", bound=Callable[..., Any])

#: limit name -> (config key, default). Each limit counts per client address and view.
LIMITS = {
    "login": ("RATELIMIT_LOGIN", "10 per minute;60 per hour"),
    "admin_login": ("RATELIMIT_ADMIN_LOGIN", "10 per minute;60 per hour"),
    "open": ("RATELIMIT_OPEN", "60 per minute"),
    "upload": ("RATELIMIT_UPLOAD", "30 per minute;300 per hour"),
    "send": ("RATELIMIT_SEND", "10 per minute;60 per hour"),
}
_LIMITS_ATTRIBUTE = "portal_rate_limits"
_CSRF_EXEMPT_ATTRIBUTE = "portal_csrf_exempt"


class UnknownLimit(RuntimeError):
    """A view asks for a rate limit that does not exist (a typo would leave it unlimited)."""


@dataclass(frozen=True)
class Declared:
    """A rate limit declared on a view."""

    name: str
    methods: tuple[str, ...]
    counts: Callable[[str], None] | None


def limited(
    name: str, *, methods: tuple[str, ...] = ("POST",), counts: Callable[[str], None] | None = None
) -> Callable[[View], View]:
    """Declare that the view is limited per client address by the limit `name` (see LIMITS).

    `counts` is called with "rate_limited" for every refused request (a metric).
    """

    def declare(view: View) -> View:
        declared = getattr(view, _LIMITS_ATTRIBUTE, ())
        setattr(view, _LIMITS_ATTRIBUTE, (*declared, Declared(name, methods, counts)))
        return view

    return declare


def csrf_exempt(view: View) -> View:
    """Declare that the view accepts a post without a CSRF token (it must change nothing)."""
    setattr(view, _CSRF_EXEMPT_ATTRIBUTE, True)
    return view


def declared_limits(view: Any) -> tuple[Declared, ...]:
    """Return the rate limits declared on a view function."""
    return tuple(getattr(view, _LIMITS_ATTRIBUTE, ()))


def use_account_language(code: str | None) -> None:
    """Speak the language stored in the logged-in account for the rest of this request.

    None (no language stored) leaves the choice to `select_locale`'s negotiation.
    """
    if code in LANGUAGES:
        setattr(g, _ACCOUNT_LANGUAGE, code)
        refresh()  # a text translated earlier in this request must not fix the language


def select_locale() -> str:
    """Pick the language: the account's, the visitor's choice, the browser's, the default."""
    account = g.get(_ACCOUNT_LANGUAGE)
    if account in LANGUAGES:
        return str(account)
    chosen = session.get(LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best

    try:
        default = settings().default_language
    except Exception:  # the settings are a nicety here; never fail a page over them
        default = "en"
    return default if default in LANGUAGES else "en"


def init_app(app: Flask) -> None:
    """Attach CSRF protection, Babel and the rate limiter to `app`."""
    for key, default in LIMITS.values():
        app.config.setdefault(key, default)
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
    """Apply the limits and CSRF exemptions declared on the registered views.

    Raises UnknownLimit, naming the view, when a declared limit does not exist.
    """
    limiter: Limiter = app.extensions["portal.limiter"]
    csrf: CSRFProtect = app.extensions["portal.csrf"]
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, _CSRF_EXEMPT_ATTRIBUTE, False):
            csrf.exempt(view)
        wrapped: Any = view
        for declared in declared_limits(view):
            if declared.name not in LIMITS:
                raise UnknownLimit(
                    f"the view {endpoint} declares the rate limit {declared.name!r}, which "
                    f"does not exist; use one of {', '.join(sorted(LIMITS))}"
                )
            # The limit is checked by the wrapper, so the wrapper must be the registered view.
            wrapped = limiter.limit(
                _configured(LIMITS[declared.name][0]),
                methods=list(declared.methods),
                on_breach=_breach_counter(declared.counts),
            )(wrapped)
        app.view_functions[endpoint] = wrapped


def _breach_counter(counts: Callable[[str], None] | None) -> Callable[[Any], None]:
    """Return what to do when the limit refuses a request: count it (then answer 429)."""

    def breached(limit: Any) -> None:
        if counts is not None:
            counts("rate_limited")

    return breached


def _configured(key: str) -> Callable[[], str]:
    """Return a callable reading the limit from the app config at request time."""
    return lambda: str(current_app.config[key])
