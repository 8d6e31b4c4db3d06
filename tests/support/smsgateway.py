"""A real HTTP server on loopback that stands in for an SMS provider's webhook.

It records every POST (path, headers, JSON body) and answers 200, or the status it was
told to answer with (`refuse`). Use `url` as ``[sms] gateway = "webhook:<url>"``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Sms:
    """One webhook call the gateway received."""

    to: str
    text: str
    authorization: str


class SmsGatewayDouble:
    """The recording webhook server: start(), then read `received`; stop() at the end."""

    def __init__(self) -> None:
        self.received: list[Sms] = []
        self.status = 200
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # stop() waits for the serving loop to look up: every 20 ms, not the default 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """The webhook's address."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/sms"

    def start(self) -> SmsGatewayDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def refuse(self, status: int = 503) -> None:
        """Answer every further call with `status`."""
        self.status = status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body: Any = json.loads(self.rfile.read(length) or b"{}")
                if double.status == 200:
                    double.received.append(
                        Sms(
                            to=str(body.get("to")),
                            text=str(body.get("text")),
                            authorization=self.headers.get("Authorization", ""),
                        )
                    )
                self.send_response(double.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
