"""Probes for load balancers and Prometheus: /healthz, /readyz and /metrics.

`/healthz` answers as long as the process serves requests. `/readyz` also checks that the
keystore database answers and its schema is current. `/metrics` is reachable only from
loopback (and not through a reverse proxy on the same host) unless
``[portal] metrics_token`` is set and presented as a Bearer token.

The portal's counters are kept here too. Recipient logins, message openings and replies
are counted by watching which pages the portal renders, so the recipient views need no
metrics code of their own; admin actions are counted where they are audited.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any

from flask import Blueprint, Flask, Response, g, request, template_rendered
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

from keystore.errors import KeystoreError
from portal.context import runtime

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

LOGINS = Counter(
    "webcrypt_portal_logins_total", "Recipient login attempts by outcome (ok, failed).", ["outcome"]
)
OPENS = Counter(
    "webcrypt_portal_opens_total",
    "Attempts to read a message by outcome (ok, or the problem shown: expired, revoked, ...).",
    ["outcome"],
)
REPLIES = Counter(
    "webcrypt_portal_replies_total", "Secure replies and new messages by outcome.", ["outcome"]
)
ADMIN_LOGINS = Counter(
    "webcrypt_admin_logins_total", "Admin login attempts by outcome.", ["outcome"]
)
ADMIN_ACTIONS = Counter(
    "webcrypt_admin_actions_total", "Audited admin actions by action name.", ["action"]
)

#: Endpoints where a recipient logs in, and the pages they show again after a failure.
LOGIN_ENDPOINTS = ("auth.login", "auth.login_pin", "auth.forgot_answer")
LOGIN_PAGES = ("auth/login.html", "auth/login_pin.html", "auth/forgot_answer.html")
#: Form buttons that only switch between the password and the PIN form.
SWITCHES = ("use_pin", "use_password")
REPLY_ENDPOINTS = ("reply.send", "reply.write")
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
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


# -- counting what the recipient pages show ------------------------------------------------


def _on_render(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
    """Note each rendered page; a reading outcome is counted as soon as its page renders."""
    name = getattr(template, "name", "") or ""
    try:
        g.setdefault("rendered", []).append(name)
    except RuntimeError:  # rendered outside a request (a mail, a preview job)
        return
    if name == "reader/message.html":
        OPENS.labels(outcome="ok").inc()
    elif name == "reader/problem.html":
        OPENS.labels(outcome=str(context.get("kind") or "problem")).inc()
    elif name == "reply/sent.html":
        REPLIES.labels(outcome="sent").inc()


def _count_response(response: Response) -> Response:
    """Count login attempts and failed replies from the answer the portal gives."""
    if request.method != "POST":
        return response
    endpoint = request.endpoint or ""
    status = response.status_code
    if endpoint in LOGIN_ENDPOINTS and not any(name in request.form for name in SWITCHES):
        rendered = g.get("rendered", [])
        if status == 401:
            LOGINS.labels(outcome="failed").inc()
        elif status == 429:
            LOGINS.labels(outcome="rate_limited").inc()
        elif status == 302 or (status == 200 and any(n not in LOGIN_PAGES for n in rendered)):
            LOGINS.labels(outcome="ok").inc()
    elif endpoint in REPLY_ENDPOINTS and status >= 400:
        REPLIES.labels(outcome="failed" if status != 429 else "rate_limited").inc()
    return response


def init_app(app: Flask) -> None:
    """Register the probes and the counting hooks on `app`."""
    app.register_blueprint(bp)
    app.after_request(_count_response)
    template_rendered.connect(_on_render, app)
