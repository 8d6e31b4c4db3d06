"""Role checks and the audit trail of the admin views.

Every view of the admin area states who may use it: `require(...)` guards it and leaves
its roles on the view, and `check_role_decisions` refuses to start an application with an
admin view that has none (apart from the login views, which are `public`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, request, url_for

from portal import metrics
from portal.admin import session as admin_session
from portal.admin.session import AdminIdentity
from portal.context import Page, Services, services, settings
from portal.extensions import use_account_language

View = TypeVar("View", bound=Callable[..., Any])

#: Every role there is; `require()` without roles admits these.
ALL_ROLES = ("admin", "helpdesk")
#: The attribute of a view function that holds the roles admitted to it.
ROLES_ATTRIBUTE = "admin_roles"


def client_ip() -> str:
    """Return the address the request came from (as resolved behind trusted proxies)."""
    return request.remote_addr or ""


def current() -> AdminIdentity:
    """Return the admin of this request (only inside a view guarded by `require`)."""
    return cast(AdminIdentity, g.admin)


def record(found: Services, action: str, *, target: str = "", detail: str = "") -> None:
    """Write an admin action to the audit log (same transaction as the change) and count it."""
    found.audit.record(action, actor=current().email, target=target, ip=client_ip(), detail=detail)
    metrics.admin_action(action)


def require(*roles: str) -> Callable[[View], View]:
    """Guard a view: a logged-in admin session, and one of `roles` when any are given.

    Without a session the visitor goes to the login page; with the wrong role the answer
    is 403.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            admin_id = admin_session.session_id()
            who = None
            if admin_id is not None:
                idle_minutes = int(settings().admin_idle_minutes)
                with services() as found:
                    admin = found.admins.get_by_id(admin_id)
                    who = admin_session.identity(admin, idle_minutes=idle_minutes)
            if who is None:
                target = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("admin.login", next=target))
            if roles and who.role not in roles:
                abort(403)
            g.admin = who
            use_account_language(who.language)
            return view(*args, **kwargs)

        setattr(guarded, ROLES_ATTRIBUTE, roles or ALL_ROLES)
        return cast(View, guarded)

    return decorate


def public(view: View) -> View:
    """Mark a view that needs no admin session (the login steps and logout)."""
    setattr(view, ROLES_ATTRIBUTE, ())
    return view


def allow(*roles: str) -> None:
    """Refuse (403) the current admin unless they have one of `roles` (a finer check in a view)."""
    if current().role not in roles:
        abort(403)


def check_role_decisions(app: Any, prefix: str) -> None:
    """Raise at start-up when a view under `prefix` has no role decision.

    A view without `require(...)` or `public` would be open to anyone; better the
    application does not start than an admin page goes out unguarded.
    """
    missing = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix + "/")
        and rule.endpoint != "admin.static"
        and not hasattr(_unwrapped(app.view_functions[rule.endpoint]), ROLES_ATTRIBUTE)
    )
    if missing:
        raise RuntimeError(
            f"admin views without a role decision: {', '.join(missing)}; guard each with "
            "@require(...) (or mark a login step @public) in portal/admin"
        )


def _unwrapped(view: Any) -> Any:
    """Return the view under wrappers added by other decorators (e.g. a rate limit)."""
    while not hasattr(view, ROLES_ATTRIBUTE) and hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return view


def page_number(last: int) -> int:
    """Return the requested page of a list, 1 to `last` (1 when missing or nonsense)."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), last)


def safe_next(target: str | None, default: str) -> str:
    """Return `target` when it is a path inside the admin area, else `default`."""
    if (
        target
        and target.startswith(admin_session.PATH + "/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target.rstrip("?")
    return default


__all__ = [
    "ALL_ROLES",
    "Page",
    "Services",
    "allow",
    "check_role_decisions",
    "client_ip",
    "current",
    "page_number",
    "public",
    "record",
    "require",
    "safe_next",
    "services",
]
