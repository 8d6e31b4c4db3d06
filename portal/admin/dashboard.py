"""The dashboard: messages, accounts, health of the keystore and the mail relay, version."""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from prometheus_client import REGISTRY

from keystore import reports
from keystore.errors import KeystoreError
from portal.admin import bp
from portal.admin.access import current, require, services
from portal.context import now, runtime
from webcrypt import __version__

RELAY_CHECK_TIMEOUT = 3.0


@dataclass(frozen=True)
class Check:
    """The result of one health check."""

    name: str
    ok: bool
    detail: str


def keystore_check() -> Check:
    """Check that the keystore database answers and its schema is current."""
    keystore = runtime().keystore
    try:
        keystore.ping()
        if not keystore.is_current():
            return Check(
                gettext("Keystore database"),
                False,
                gettext("reachable, but migrations are pending"),
            )
    except KeystoreError as exc:
        return Check(gettext("Keystore database"), False, str(exc))
    return Check(gettext("Keystore database"), True, gettext("reachable, schema current"))


def relay_check(url: str, name: str) -> Check:
    """Check a relay URL: connect and greet an SMTP relay, or look at an outbox folder."""
    if url.startswith("outbox:"):
        folder = Path(url.removeprefix("outbox:"))
        if folder.is_dir() and os.access(folder, os.W_OK):
            return Check(name, True, gettext("outbox folder %(folder)s is writable", folder=folder))
        if not folder.exists() and os.access(folder.parent if str(folder.parent) else ".", os.W_OK):
            return Check(
                name, True, gettext("outbox folder %(folder)s will be created", folder=folder)
            )
        return Check(
            name, False, gettext("outbox folder %(folder)s is not writable", folder=folder)
        )

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    client_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    try:
        with client_class(host, port, timeout=RELAY_CHECK_TIMEOUT) as client:
            code, _ = client.noop()
    except (OSError, smtplib.SMTPException) as exc:
        where = f"{parts.scheme}://{host}:{port}"
        return Check(
            name, False, gettext("%(relay)s does not answer (%(error)s)", relay=where, error=exc)
        )
    where = f"{parts.scheme}://{host}:{port}"
    if code != 250:
        return Check(name, False, gettext("%(relay)s answered %(code)s", relay=where, code=code))
    return Check(name, True, gettext("%(relay)s answers", relay=where))


def relay_checks() -> list[Check]:
    """Check the filter's relay and, when it is another one, the portal's."""
    config = runtime().config
    filter_relay = str(config.filter.relay)
    portal_relay = str(config.portal_relay)
    checks = [relay_check(filter_relay, gettext("Mail relay"))]
    if portal_relay != filter_relay:
        checks.append(relay_check(portal_relay, gettext("Portal mail relay")))
    return checks


def counter(name: str, **labels: str) -> int:
    """Return a counter of this process (0 when nothing was counted yet)."""
    value = REGISTRY.get_sample_value(name, labels)
    return int(value or 0)


def failures_since_start() -> dict[str, int]:
    """Failure counts kept by this process since it started."""
    opens = 0
    for metric in REGISTRY.collect():
        if metric.name == "webcrypt_portal_opens":
            opens = sum(
                int(sample.value)
                for sample in metric.samples
                if sample.name.endswith("_total") and sample.labels.get("outcome") != "ok"
            )
    return {
        "mails_deferred": counter("webcrypt_filter_messages_total", reply="4xx"),
        "mails_refused": counter("webcrypt_filter_messages_total", reply="5xx"),
        "relay_failures": counter("webcrypt_filter_relay_failures_total", temporary="true")
        + counter("webcrypt_filter_relay_failures_total", temporary="false"),
        "opens_failed": opens,
        "logins_failed": counter("webcrypt_portal_logins_total", outcome="failed"),
    }


def start_of_day(moment: datetime) -> datetime:
    """Return midnight (UTC) of the day of `moment`."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def figures() -> dict[str, Any]:
    """Collect the dashboard's figures from the ledger, the accounts and the audit log."""
    moment = now()
    with services() as found:
        today = found.ledger.count_since(start_of_day(moment))
        month = found.ledger.count_since(moment - timedelta(days=30))
        accounts = reports.account_counts(found.session, moment)
        failed_logins = reports.search_audit(
            found.session, action="admin.login_failed", since=moment - timedelta(days=1)
        )
        mailbox = runtime().keystore.mailbox(found.session).totals()
    return {
        "mailbox": mailbox,
        "today": today,
        "month": month,
        "accounts": accounts,
        "admin_failures": len(failed_logins),
    }


@bp.route("/")
@require()
def dashboard() -> ResponseReturnValue:
    """Show the dashboard (helpdesk users go straight to the user search)."""
    if not current().is_admin:
        return redirect(url_for("admin.users"))
    checks = [keystore_check(), *relay_checks()]
    data = figures() if checks[0].ok else None
    return render_template(
        "admin/dashboard.html",
        data=data,
        checks=checks,
        failures=failures_since_start(),
        version=__version__,
    )
