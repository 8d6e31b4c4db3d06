"""The admin's own language: the EN/DE switch at the foot of every admin page.

A logged-in admin's choice is stored in the account, so every later login speaks it on
any browser; before the login (and for an admin who never chose) the pages follow the
browser or the switch kept in the browser session (`portal.extensions.select_locale`).
"""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from keystore.languages import LANGUAGES
from portal.admin import bp
from portal.admin.access import ALL_ROLES, current, require, safe_next, services
from portal.extensions import LANGUAGE_KEY


@bp.route("/language", methods=["POST"])
@require(*ALL_ROLES)
def language() -> ResponseReturnValue:
    """Store the chosen language in the admin's account and go back to the page."""
    code = request.form.get("lang", "")
    if code not in LANGUAGES:
        abort(404)
    with services() as found:
        admin = found.admins.get_by_id(current().id)
        if admin is None:
            abort(404)
        found.admins.set_language(admin, code)
    session[LANGUAGE_KEY] = code  # the login page after a logout speaks it too
    return redirect(safe_next(request.form.get("next"), url_for("admin.users")))
