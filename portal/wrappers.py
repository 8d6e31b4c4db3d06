"""The request and session classes: uploads stay in memory; cookies expire with the session."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import IO

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from portal.context import settings


class PortalRequest(Request):
    """A request whose uploaded files are held in memory.

    Werkzeug spools uploads above 500 KB to a temporary file; a reply attachment is
    plaintext, so it must not be written to disk even for a moment.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


class PortalSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie lives as long as the admin's session lifetime.

    The lifetime is also checked on the server (see `portal.identity`); the cookie expiry
    only makes the browser forget it at the same time.
    """

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """Return when the browser should drop the cookie."""
        if not session.permanent:
            return None

        try:
            hours = int(settings().session_max_hours)
        except Exception:  # the keystore being down is reported by the view itself
            return super().get_expiration_time(app, session)
        return datetime.now(UTC) + timedelta(hours=hours)
