"""Probes for load balancers and Prometheus: /healthz, /readyz and /metrics.

`/healthz` answers as long as the process serves requests. `/readyz` also checks that the
keystore database answers and its schema is current. `/metrics` is reachable only from
loopback (and not through a reverse proxy on the same host) unless
``[portal] metrics_token`` is set and presented as a Bearer token.

The counters themselves live in `portal.metrics`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Blueprint, Flask, Response, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from keystore.errors import KeystoreError
from portal import metrics as _counters
from portal.context import runtime

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers requests (nothing else is checked)."""
    return {"status": "ok"}, 200


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: the keystore database answers and its migrations are current."""
    keystore = runtime().keystore
    try:
        keystore.ping()
        current = keystore.is_current()
    except KeystoreError as exc:
        log.warning("not ready: %s", exc)
        return {"status": "unavailable", "database": "unreachable"}, 503
    except Exception:
        log.exception("not ready: the schema version could not be read")
        return {"status": "unavailable", "database": "error"}, 503
    if not current:
        return {"status": "unavailable", "database": "ok", "migrations": "outdated"}, 503
    return {"status": "ok", "database": "ok", "migrations": "current"}, 200


def _from_loopback() -> bool:
    """Tell whether the request comes straight from this host (not through a proxy)."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _token_presented() -> bool:
    token = str(runtime().config.portal.metrics_token or "")
    if not token:
        return False
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


@bp.route("/metrics")
def metrics() -> ResponseReturnValue:
    """Prometheus metrics of this process (the filter's too when both run in one process)."""
    if not (_from_loopback() or _token_presented()):
        return Response(
            "metrics are only served to loopback or with the configured bearer token\n",
            status=403,
            mimetype="text/plain",
        )
    _read_mailbox_totals()
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


def _read_mailbox_totals() -> None:
    """Update the secure mailbox gauges from the keystore (kept as they were when it fails)."""
    keystore = runtime().keystore
    try:
        with keystore.session() as session:
            totals = keystore.mailbox(session).totals()
    except KeystoreError as exc:
        log.warning("mailbox figures not updated: %s", exc)
        return
    _counters.mailbox_totals(totals.accounts, totals.messages, totals.bytes, totals.unread)


def init_app(app: Flask) -> None:
    """Register the probes on `app`."""
    app.register_blueprint(bp)
