"""Error pages: every failure ends on a page that says what happened and what to do."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from keystore.errors import KeystoreUnavailable

log = logging.getLogger(__name__)


def error_page(status: int, title: str, message: str, *, hint: str = "") -> tuple[str, int]:
    """Render the generic error page with `status`."""
    return render_template(
        "errors/page.html", status=status, title=title, message=message, hint=hint
    ), status


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    pages = {
        404: (_("Page not found"), _("There is no page at this address.")),
        405: (_("Not possible here"), _("This page cannot be used this way.")),
        413: (
            _("The file is too large"),
            _(
                "The file or form you sent is larger than the portal accepts. Upload only the "
                "secure.htm attachment, or send fewer or smaller attachments."
            ),
        ),
        429: (
            _("Too many attempts"),
            _("Too many requests came from your network. Please wait a few minutes and try again."),
        ),
    }
    title, message = pages.get(
        status, (_("Something went wrong"), _("The request could not be handled."))
    )
    return error_page(status, title, message)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        _("The form has expired"),
        _(
            "For your protection the form could not be accepted. Go back, reload the page and "
            "try again. If the message was open, open the secure.htm attachment again."
        ),
    )


def _keystore_unavailable(error: KeystoreUnavailable) -> tuple[str, int]:
    log.warning("keystore unavailable: %s", error)
    return error_page(
        503,
        _("Please try again later"),
        _(
            "The portal cannot reach its database right now. Nothing was lost: "
            "try again in a few minutes."
        ),
    )


def _internal_error(error: Exception) -> tuple[str, int]:
    return error_page(
        500,
        _("Something went wrong"),
        _("The portal could not finish your request. Please try again later."),
    )


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(KeystoreUnavailable, _keystore_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _internal_error)
