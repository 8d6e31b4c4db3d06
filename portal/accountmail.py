"""Mails about the recipient's own account: the reset link and the notices of each reset step.

Everything that differs between an address with an account and one without — drawing the
link's token, storing its hash, rendering and relaying the mail — happens on a background
thread after the page was answered: the page takes the same work and time for every
address, so it cannot tell which ones have an account. A slow relay never holds a database
session either. No mail carries a secret other than the reset link itself, which goes only
to the account's own address.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for

from keystore.errors import KeystoreError
from keystore.models import Recipient
from keystore.recipients import RecipientService
from keystore.settings import Settings
from portal.context import RUNTIME_KEY, internal_domains, runtime, settings
from webcrypt import notices
from webcrypt.mail.compose import Outgoing
from webcrypt.smtp.relay import RelayError

log = logging.getLogger(__name__)

MAILER_KEY = "portal.account_mailer"

Job = Callable[[], Outgoing | None]


class Mailer:
    """Runs account-mail jobs one after the other on a background thread and relays the mail."""

    def __init__(self, relay: Any) -> None:
        self._relay = relay
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-mail")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        """Queue `job`; the mail it returns (if any) goes to the relay. Failures are logged."""
        future = self._executor.submit(self._run, job)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def send(self, mail: Outgoing) -> None:
        """Queue a mail that is built already."""
        self.submit(lambda: mail)

    def _run(self, job: Job) -> None:
        try:
            mail = job()
        except KeystoreError as exc:
            log.warning("account mail not prepared: %s", exc)
            return
        if mail is None:
            return
        try:
            self._relay.send(
                mail.build(), mail_from=mail.mail_from, rcpt_tos=mail.rcpt_tos, crlf_only=True
            )
        except RelayError as exc:
            log.warning("%s mail to %s not sent: %s", mail.kind, ", ".join(mail.rcpt_tos), exc)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued job ran and its mail was handed to the relay (or failed)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)


_CREATING = threading.Lock()


def mailer(app: Flask | None = None) -> Mailer:
    """Return the application's account mailer (`app`, else the current one), made on first use."""
    # current_app is typed as a Flask; it is werkzeug's proxy, which hands out the app itself.
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _CREATING:
        found: Mailer | None = app.extensions.get(MAILER_KEY)
        if found is None:
            found = Mailer(app.extensions[RUNTIME_KEY].relay_for("portal"))
            app.extensions[MAILER_KEY] = found
    return found


@dataclass(frozen=True)
class MailContext:
    """What building an account mail needs from the request, for use on another thread."""

    settings: Settings
    internal_domains: tuple[str, ...]
    link_prefix: str

    @classmethod
    def of_request(cls) -> MailContext:
        """Capture the settings, our domains and the reset link's URL prefix."""

        public = str(current_app.config["PUBLIC_URL"])
        return cls(
            settings=settings(),
            internal_domains=internal_domains().domains,
            link_prefix=public + url_for("auth.forgot") + "/link/",
        )

    def sent_for(self, recipient: Any) -> str:
        """Return the address whose domain mail about `recipient`'s account comes from."""
        return notices.sending_address(recipient.created_by, self.internal_domains)


def reset_link_mail(recipient: Any, token: str, now: datetime, where: MailContext) -> Outgoing:
    """Build the mail with the one-time reset link, in the recipient's language."""
    return notices.reset_link_mail(
        recipient=str(recipient.address),
        sent_for=where.sent_for(recipient),
        link=where.link_prefix + token,
        settings=where.settings,
        lang=recipient.language,
        now=now,
    )


def reset_notice_mail(
    recipient: Any, event: str, now: datetime, where: MailContext, *, left: int = 0
) -> Outgoing:
    """Build the notice of one reset step (`notices.RESET_EVENTS`), in the recipient's language."""
    return notices.reset_notice_mail(
        recipient=str(recipient.address),
        event=event,
        left=left,
        sent_for=where.sent_for(recipient),
        settings=where.settings,
        lang=recipient.language,
        now=now,
    )


def reset_request_job(recipient_id: int, *, ip: str, now: datetime, where: MailContext) -> Job:
    """Return the job that answers a reset request for an existing account.

    An open reset gets a new link (its token's hash stored); an account whose reset is closed
    or that has no security answer yet gets a notice saying what to do instead.
    """
    keystore = runtime().keystore

    def job() -> Outgoing | None:
        with keystore.session() as session:
            recipients = keystore.recipients(session)
            recipient = recipients.get_by_id(recipient_id)
            if recipient is None:
                return None
            mail, detail = _reset_answer(recipients, recipient, ip=ip, now=now, where=where)
            keystore.audit(session).record(
                "portal.reset_answered",
                actor="system",
                target=str(recipient.address),
                ip=ip,
                detail=detail,
            )
            return mail

    return job


def _reset_answer(
    recipients: RecipientService,
    recipient: Recipient,
    *,
    ip: str,
    now: datetime,
    where: MailContext,
) -> tuple[Outgoing | None, str]:
    """Return what a reset request for `recipient` gets by mail, and what the audit log says.

    An open reset gets a new link (unless too many were asked for in the last hour); a closed
    one, or an account without a security answer, a notice; any other state nothing.
    """
    state = recipients.reset_state(recipient)
    if state == "open":
        token = recipients.issue_reset_token(recipient, ip=ip, asked=now)
        if not token:
            return None, "no link: too many in the last hour"
        return reset_link_mail(recipient, token, now, where), "link mailed"
    if state in ("closed", "no_answer"):
        notice = reset_notice_mail(recipient, f"requested_{state}", now, where)
        return notice, f"notice mailed: {state}"
    return None, f"nothing mailed: {state}"
