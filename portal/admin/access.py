"""Database access, role checks and the audit trail of the admin views."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property, wraps
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from portal import metrics
from portal.admin import session as admin_session
from portal.admin.session import AdminIdentity
from portal.context import runtime, settings

View = TypeVar("View", bound=Callable[..., Any])


class AdminServices:
    """The keystore services of one database session, created on first use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.keystore = runtime().keystore

    @cached_property
    def admins(self) -> Any:
        """Return the admin account service."""
        return self.keystore.admins(self.session)

    @cached_property
    def recipients(self) -> Any:
        """Return the recipient account service."""
        return self.keystore.recipients(self.session)

    @cached_property
    def ledger(self) -> Any:
        """Return the message ledger service."""
        return self.keystore.ledger(self.session)

    @cached_property
    def audit(self) -> Any:
        """Return the audit log service."""
        return self.keystore.audit(self.session)

    @cached_property
    def settings(self) -> Any:
        """Return the settings service."""
        return self.keystore.settings(self.session)


@contextmanager
def services() -> Iterator[AdminServices]:
    """Open a keystore session (committed on success) and yield its services."""
    with runtime().keystore.session() as session:
        yield AdminServices(session)


class Page:
    """A page to render once the database session is closed.

    Rendering runs the portal's template context, which may read the settings through a
    session of its own; on SQLite a second session must not wait for the first one.
    """

    def __init__(self, template: str, context: dict[str, Any], status: int = 200, **more: Any):
        self.template = template
        self.context = {**context, **more}
        self.status = status

    def render(self) -> tuple[str, int]:
        """Render the page with its status."""
        return render_template(self.template, **self.context), self.status


def client_ip() -> str:
    """Return the address the request came from (as resolved behind trusted proxies)."""
    return request.remote_addr or ""


def current() -> AdminIdentity:
    """Return the admin of this request (only inside a view guarded by `require`)."""
    return cast(AdminIdentity, g.admin)


def record(found: AdminServices, action: str, *, target: str = "", detail: str = "") -> None:
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
