"""The request class: uploads stay in memory, never in temporary files."""

from __future__ import annotations

import io
from typing import IO

from flask import Request


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
