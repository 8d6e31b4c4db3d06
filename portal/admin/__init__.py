"""The admin frontend under /admin: users, settings, branding, monitoring and audit log.

Admins log in with a password and a TOTP code and keep their session in a cookie of their
own (see `portal.admin.session`). Roles: "admin" may do everything, "helpdesk" only manages
recipient accounts.
"""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Flask, Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from portal.admin.access import check_role_decisions
from portal.admin.session import save
from portal.admin.words import template_names

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Modules whose views register on `bp` when imported.
VIEWS = (
    "portal.admin.login",
    "portal.admin.dashboard",
    "portal.admin.users",
    "portal.admin.phone",
    "portal.admin.withdrawals",
    "portal.admin.settings_page",
    "portal.admin.branding_page",
    "portal.admin.auditlog",
    "portal.admin.language",
)


def _error(status: int, title: str, message: str) -> ResponseReturnValue:
    return render_template("admin/error.html", status=status, title=title, message=message), status


@bp.errorhandler(403)
def forbidden(error: Exception) -> ResponseReturnValue:
    """Tell a helpdesk user that this part of the admin area is not theirs."""
    return _error(
        403,
        _("Not allowed"),
        _("Your role does not include this page. Ask an administrator if you need it."),
    )


@bp.errorhandler(404)
def not_found(error: Exception) -> ResponseReturnValue:
    """Say that there is no such page or record."""
    return _error(404, _("Not found"), _("There is no such page or record."))


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    """Explain an expired or missing form token."""
    return _error(
        400,
        _("The form has expired"),
        _("For your protection the form was not accepted. Reload the page and try again."),
    )


def _after_request(response: Response) -> Response:

    return save(response)


def register(app: Flask) -> None:
    """Register the admin blueprint on `app`; refuse to start with an unguarded admin view."""

    app.register_blueprint(bp)
    check_role_decisions(app, bp.url_prefix or "/admin")


for _name in VIEWS:
    import_module(_name)
bp.after_request(_after_request)
bp.context_processor(template_names)

__all__ = ["bp", "register"]
