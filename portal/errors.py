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
        400: (
            _("The request was incomplete"),
            _(
                "The page received less than it needs, for example after a form was sent twice. "
                "Go back to the start page and try again; to read a message, open its "
                "secure.htm attachment again."
            ),
        ),
        403: (
            _("Not allowed"),
            _("This page is not open to you. Log in first, or go back to the start page."),
        ),
        404: (
            _("Page not found"),
            _(
                "There is no page at this address. Check the link, or go to the start page to "
                "open your message."
            ),
        ),
        405: (
            _("Not possible here"),
            _(
                "This page cannot be opened directly. Go to the start page and open your "
                "message from there."
            ),
        ),
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
        status,
        (
            _("The portal could not answer this request"),
            _(
                "Nothing was changed. Go back to the start page and try again; if it happens "
                "again, tell your adviser what you were doing."
            ),
        ),
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
        _("The portal had an internal error"),
        _(
            "Your request could not be finished and nothing was sent. Please try again in a "
            "few minutes; if it happens again, tell your adviser what you were doing."
        ),
    )


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(KeystoreUnavailable, _keystore_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _internal_error)
