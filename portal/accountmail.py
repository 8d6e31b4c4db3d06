"""Mails about the recipient's own account: the reset link and the notices of each reset step.

They go out from a background thread after the request's database session closed, so the
answer to "reset my password" takes the same time whether or not a mail is sent (the page
must not tell which addresses have an account), and a slow relay never holds a session.
None of them carries a secret other than the reset link itself, which goes only to the
account's own address.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from portal.context import internal_domains, runtime, settings
from webcrypt.lifecycle.mails import notice_mail
from webcrypt.notices import Outgoing
from webcrypt.relay import RelayError

log = logging.getLogger(__name__)

MAILER_KEY = "portal.account_mailer"

#: What a reset notice can report (the template `reset_notice` has a text for each).
EVENTS = ("password_changed", "wrong_answer", "closed", "requested_closed", "requested_no_answer")


class Mailer:
    """Sends account mails one after the other on a background thread."""

    def __init__(self, relay: Any) -> None:
        self._relay = relay
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-mail")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, mail: Outgoing) -> None:
        """Queue `mail` for the relay (failures are logged: the page has been answered)."""
        future = self._executor.submit(self._send, mail)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _send(self, mail: Outgoing) -> None:
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
        """Wait until every queued mail was handed to the relay (or failed)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)


def mailer(app: Flask | None = None) -> Mailer:
    """Return the application's account mailer, creating it on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(MAILER_KEY)
    if found is None:
        found = app.extensions.setdefault(MAILER_KEY, Mailer(runtime().relay_for("portal")))
    return found


def _sender_address(recipient: Any) -> str:
    """Return the address whose domain account mails come from (the adviser's, else ours)."""
    adviser = str(recipient.created_by or "")
    if "@" in adviser:
        return adviser
    domains = internal_domains()
    return f"postmaster@{domains[0]}" if domains else "postmaster@localhost"


def _mail(name: str, recipient: Any, now: datetime, context: dict[str, Any]) -> Outgoing:
    return notice_mail(
        name,
        to=str(recipient.address),
        domain_of=_sender_address(recipient),
        settings=settings(),
        lang=recipient.language,
        now=now,
        context={"recipient": str(recipient.address), "when": now, **context},
    )


def reset_link_mail(recipient: Any, link: str, now: datetime) -> Outgoing:
    """Build the mail with the one-time reset link, in the recipient's language."""
    return _mail(
        "reset_link", recipient, now, {"link": link, "minutes": settings().reset_link_minutes}
    )


def reset_notice_mail(recipient: Any, event: str, now: datetime, *, left: int = 0) -> Outgoing:
    """Build the notice of one reset step (`EVENTS`), in the recipient's language."""
    if event not in EVENTS:
        raise ValueError(f"unknown reset event {event!r}; use one of {', '.join(EVENTS)}")
    return _mail("reset_notice", recipient, now, {"event": event, "left": left})
