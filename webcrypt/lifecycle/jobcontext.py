"""What every housekeeping job gets: the runtime, the moment of the run, settings, a sender."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from keystore.addresses import normalize_address
from keystore.audit import AuditService
from keystore.db import Session
from keystore.periodic import LifecycleService
from keystore.recipients import RecipientService
from keystore.settings import Settings
from webcrypt.lifecycle.sending import NoticeSender
from webcrypt.notices import Written

if TYPE_CHECKING:
    from webcrypt.runtime import Runtime

ACTOR = "housekeeping"
"""The actor named in audit entries written by housekeeping."""


def normalized(address: str) -> str:
    """Return the normalized form of an address, or the address itself if it is not one."""
    try:
        return normalize_address(address)
    except ValueError:
        return address.strip().lower()


@dataclass
class JobContext:
    """One housekeeping run: every job sees the same `now` and settings."""

    runtime: Runtime
    now: datetime
    settings: Settings
    sender: NoticeSender

    def clock(self) -> datetime:
        """Return the moment of this run (services stamp rows with it)."""
        return self.now

    @property
    def written(self) -> Written:
        """What every notice of this run is written with: its settings and its moment."""
        return Written(settings=self.settings, now=self.now)

    @property
    def portal_url(self) -> str:
        """Return the public URL of the portal."""
        return str(self.runtime.config.portal.public_url).rstrip("/")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a keystore session (one short transaction)."""
        with self.runtime.keystore.session() as session:
            yield session

    def lifecycle(self, session: Session) -> LifecycleService:
        """Return the lifecycle service bound to `session`."""
        return LifecycleService(session, clock=self.clock)

    def recipients(self, session: Session) -> RecipientService:
        """Return the recipient service bound to `session`."""
        keystore = self.runtime.keystore
        return RecipientService(
            session, clock=self.clock, master_key=keystore.master_key, hasher=keystore.hasher
        )

    def audit(self, session: Session) -> AuditService:
        """Return the audit service bound to `session`."""
        return AuditService(session, clock=self.clock)
