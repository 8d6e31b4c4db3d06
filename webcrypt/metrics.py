"""Prometheus counters and histograms of the filter, and the /metrics endpoint."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "webcrypt_filter_messages_total",
    "Messages the filter answered, by SMTP reply class.",
    ["reply"],
)
RECIPIENTS = Counter(
    "webcrypt_filter_recipients_total",
    "Envelope recipients by decision (pass, plain, sealed, sealed+pin, deactivated, refused).",
    ["decision"],
)
RELAY_FAILURES = Counter(
    "webcrypt_filter_relay_failures_total", "Mails the relay did not take.", ["temporary"]
)
PINS = Counter("webcrypt_filter_pins_total", "PIN mails sent to advisers for new recipients.")
DURATION = Histogram(
    "webcrypt_filter_transaction_seconds",
    "Time from the end of DATA to the reply.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SIZE = Histogram(
    "webcrypt_filter_message_bytes",
    "Size of incoming messages.",
    buckets=(1e3, 1e4, 5e4, 1e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2.5e7, 5e7),
)
RECIPIENT_CAP = Counter(
    "webcrypt_filter_recipient_cap_total",
    "Messages held back by the cap on new recipients per sender and hour, by reply class.",
    ["reply"],
)
MAILBOX = Counter(
    "webcrypt_filter_mailbox_total",
    "Sealed messages per recipient by delivery method and what became of the mailbox copy "
    "(stored, full-refused, full-attached).",
    ["method", "result"],
)
IN_FLIGHT = Gauge("webcrypt_filter_transactions_in_flight", "Transactions being processed now.")


def serve_metrics(listen: str) -> Any | None:
    """Expose /metrics on "host:port" (empty = off); return the server so it can be shut down."""
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    result = start_http_server(int(port), addr=host or "127.0.0.1")
    server = result[0] if isinstance(result, tuple) else result
    log.info("metrics on http://%s/metrics", listen)
    return server


def stop_metrics(server: Any | None) -> None:
    """Stop a server started by `serve_metrics`."""
    if server is not None:
        server.shutdown()
        server.server_close()


__all__ = [
    "DURATION",
    "IN_FLIGHT",
    "MESSAGES",
    "PINS",
    "RECIPIENTS",
    "RECIPIENT_CAP",
    "RELAY_FAILURES",
    "SIZE",
    "serve_metrics",
    "stop_metrics",
]
