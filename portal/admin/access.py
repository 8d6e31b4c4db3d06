"""Role checks and the audit trail of the admin views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, request, url_for

from portal import metrics
from portal.admin import session as admin_session
from portal.admin.session import AdminIdentity
from portal.context import Page, Services, services, settings

View = TypeVar("View", bound=Callable[..., Any])


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
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


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
    "Page",
    "Services",
    "client_ip",
    "current",
    "page_number",
    "record",
    "require",
    "safe_next",
    "services",
]
