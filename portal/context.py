"""Access to the process runtime and the keystore services from inside a request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flask import current_app, g, render_template

from keystore import addresses
from webcrypt.runtime import InternalDomains, effective_internal_domains

if TYPE_CHECKING:
    from keystore.admins import AdminService
    from keystore.audit import AuditService
    from keystore.db import Session
    from keystore.ledger import LedgerService
    from keystore.parked import ParkingService
    from keystore.recipients import RecipientService
    from keystore.settings import Settings, SettingsService
    from webcrypt.runtime import Runtime

RUNTIME_KEY = "webcrypt.runtime"


def runtime() -> Runtime:
    """Return the runtime the current application was built around."""
    found: Runtime = current_app.extensions[RUNTIME_KEY]  # put there by create_app
    return found


def now() -> datetime:
    """Return the current time from the runtime's clock (aware UTC)."""
    clock = current_app.config.get("CLOCK") or runtime().clock
    return clock()


def settings() -> Settings:
    """Return the admin settings, read once per request (the runtime caches across requests).

    Reading them once up front also means no second database session is opened while a
    request holds one (SQLite allows one writer at a time).
    """
    if "webcrypt_settings" not in g:
        g.webcrypt_settings = runtime().settings()
    current: Settings = g.webcrypt_settings
    return current


def internal_domains() -> InternalDomains:
    """Return the company's domains in force, from this request's settings."""
    return effective_internal_domains(settings(), runtime().config.filter.internal_domains)


def is_internal(address: str) -> bool:
    """Tell whether `address` belongs to one of the company's domains."""
    return addresses.is_internal(address, internal_domains().domains)


class Services:
    """The keystore services of one database session, created on first use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._keystore = runtime().keystore

    @cached_property
    def recipients(self) -> RecipientService:
        """Return the recipient (account and key) service."""
        return self._keystore.recipients(self.session)

    @cached_property
    def ledger(self) -> LedgerService:
        """Return the message ledger service."""
        return self._keystore.ledger(self.session)

    @cached_property
    def audit(self) -> AuditService:
        """Return the audit log service."""
        return self._keystore.audit(self.session)

    @cached_property
    def admins(self) -> AdminService:
        """Return the admin account service."""
        return self._keystore.admins(self.session)

    @cached_property
    def parked(self) -> ParkingService:
        """Return the service of envelopes parked during a detour."""
        return self._keystore.parked(self.session)

    @cached_property
    def settings(self) -> SettingsService:
        """Return the settings service (for changing them; reading is `settings()`)."""
        return self._keystore.settings(self.session)


@contextmanager
def services() -> Iterator[Services]:
    """Open a keystore session (committed on success) and yield its services.

    Only one session may be open at a time in a thread: on SQLite every session takes the
    write lock, so a second one would wait out the busy timeout behind the first. The
    settings are read before the session opens (and kept for the request), and pages are
    rendered only after it closed (see `Page`), since rendering may read the settings.
    """
    settings()
    with runtime().keystore.session() as session:
        yield Services(session)


class Page:
    """A page to render once the database session is closed."""

    def __init__(self, template: str, status: int = 200, **context: Any) -> None:
        self.template = template
        self.status = status
        self.context = context

    def render(self) -> tuple[str, int]:
        """Render the page with its status."""
        return render_template(self.template, **self.context), self.status
