"""Application-wide views and template context: branding and language choice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    redirect,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import get_locale

from keystore.languages import LANGUAGES
from portal.context import settings
from portal.extensions import LANGUAGE_KEY, limited
from portal.identity import visitor
from portal.loginpage import carried_envelope
from portal.moments import show_moment
from portal.parking import park

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
DEFAULT_COLOR = "#1f4e79"


def branding() -> dict[str, Any]:
    """Return the corporate identity for templates (defaults when the settings are unreachable)."""
    lang = str(get_locale() or "en")
    try:
        current = settings()
    except Exception:  # an error page must render even with the database down
        return {"product_name": "WebCrypt", "has_logo": False, "footer": "", "contact": ""}
    return {
        "product_name": current.product_name or "WebCrypt",
        "has_logo": bool(current.logo_png),
        "footer": getattr(current, f"footer_{lang}", "") or "",
        "contact": getattr(current, f"contact_{lang}", "") or "",
    }


def _template_context() -> dict[str, Any]:
    try:
        who = visitor()
    except Exception:
        who = None
    return {
        "branding": branding(),
        "lang": str(get_locale() or "en"),
        # The same, under a name no page overrides (the branding page's `lang` is a preview's).
        "page_lang": str(get_locale() or "en"),
        "languages": LANGUAGES,
        "visitor": who,
    }


def field_attributes(field: Any, hint: str, autocomplete: str) -> dict[str, str]:
    """Return the accessibility attributes of a form input (hint, error, autocomplete)."""
    attributes: dict[str, str] = {}
    described = []
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        attributes["aria-invalid"] = "true"
    if described:
        attributes["aria-describedby"] = " ".join(described)
    if autocomplete:
        attributes["autocomplete"] = autocomplete
    return attributes


def brand_css() -> Response:
    """Serve the brand colour as a stylesheet (pages carry no inline style)."""
    try:
        color = settings().brand_color
    except Exception:
        color = DEFAULT_COLOR
    if not isinstance(color, str) or not HEX_COLOR.fullmatch(color):
        color = DEFAULT_COLOR
    css = f":root {{ --brand: {color}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "max-age=60"
    return response


def logo() -> Response:
    """Serve the admin-configured logo."""
    current = settings()
    mime = current.logo_mime or "image/png"
    if not current.logo_png or mime not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        abort(404)
    response = Response(bytes(current.logo_png), mimetype=mime)
    response.headers["Cache-Control"] = "max-age=300"
    return response


FAVICON_AGE = 365 * 24 * 3600


def favicon() -> Response:
    """Serve the tab icon, cached for a year (its content never changes under this name)."""
    response = send_from_directory(
        Path(__file__).with_name("static"), "favicon.svg", mimetype="image/svg+xml"
    )
    response.headers["Cache-Control"] = f"public, max-age={FAVICON_AGE}, immutable"
    return response


@limited("upload")
def choose_language(code: str) -> Any:
    """Remember the visitor's language and go back to the page they came from.

    Posted from a page that carries a message, the message is parked and shown again.
    """
    if code not in LANGUAGES:
        abort(404)
    session[LANGUAGE_KEY] = code
    if request.method == "POST":
        envelope = carried_envelope()
        if envelope:
            park(envelope)
            return redirect(url_for("reader.resume"))
        return redirect(url_for("reader.index"))
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    return redirect(target)


def init_app(app: Flask) -> None:
    """Register the application-wide views and the template context."""
    app.context_processor(_template_context)
    app.jinja_env.globals["field_attributes"] = field_attributes
    app.jinja_env.filters["moment"] = show_moment
    app.add_url_rule("/brand.css", "brand_css", brand_css)
    app.add_url_rule("/logo", "logo", logo)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_url_rule("/favicon.svg", "favicon_svg", favicon)
    app.add_url_rule("/language/<code>", "language", choose_language, methods=["GET", "POST"])
