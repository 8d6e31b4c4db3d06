"""Who may have mail sealed, for whom, and how many new accounts: checked before sealing.

A message to seal is refused as a whole (`Refusal`) when the SMTP client is not trusted, when
the From: header does not name the envelope sender's internal mailbox, or when its new
recipients would take the sender over the hourly cap. Each check runs before anything costly
(an account, an argon2 PIN hash, encryption) happens.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from email.utils import getaddresses

from keystore.addresses import normalize_address
from keystore.db import Keystore, Session
from webcrypt import metrics
from webcrypt.mail.message import MailMessage
from webcrypt.sealing.carrier import Adviser
from webcrypt.smtp.rules.rulecontext import Context

log = logging.getLogger(__name__)

CAP_AUDIT = "filter.recipient-cap"
"""The audit action of a message held back by the cap on new recipients."""

UNTRUSTED_REASON = (
    "This gateway encrypts only mail that comes through the company's mail server; "
    "send the message through it"
)


class Refusal(Exception):
    """The whole message is refused: every recipient gets the same reply.

    `temporary` refusals (4xx) go away with time, the others (5xx) need the sender to change
    something, which `reason` tells them.
    """

    def __init__(self, cause: str, reason: str, *, temporary: bool = False) -> None:
        super().__init__(reason)
        self.cause = cause
        self.reason = reason
        self.temporary = temporary


def adviser_of(message: MailMessage, context: Context) -> Adviser:
    """Return the adviser of a message to seal: who is named as sender, and gets the PIN.

    Only a trusted client (the company's MTA, which authenticated the sender) may have mail
    sealed, and the envelope sender and the From: header must name the same internal
    mailbox: the MTA checks the one, the recipient sees the other. Raises `Refusal`
    otherwise, saying what the sender has to fix.
    """
    mail_from = context.mail_from
    if not context.trusted_client:
        raise Refusal("untrusted-client", UNTRUSTED_REASON)
    fields = message.get_all("From")
    try:
        pairs = [pair for pair in getaddresses(fields) if pair[1]] if len(fields) == 1 else []
    except Exception:  # a malformed From: header is refused below
        pairs = []
    if len(pairs) != 1:
        raise Refusal(
            "sender-mismatch",
            f"A message to encrypt needs exactly one address in its From: header, your own "
            f"({_ascii(mail_from)}); correct the From: header and send again",
        )
    written = pairs[0][1]
    if not context.is_internal(written):
        raise Refusal(
            "sender-mismatch",
            f"The From: address {_ascii(written)} is not an internal address; a message to "
            f"encrypt must be sent from your own mailbox ({_ascii(mail_from)})",
        )
    if not _same_address(written, mail_from):
        raise Refusal(
            "sender-mismatch",
            f"The From: address {_ascii(written)} differs from the envelope sender "
            f"{_ascii(mail_from)}; the PIN for new recipients goes to the sender, so both "
            "must be the same mailbox: send from that mailbox or correct the From: header",
        )
    shown = Adviser.from_header(fields[0], mail_from)
    return Adviser(address=mail_from, name=mail_from if shown.name == written else shown.name)


def over_cap(
    keystore: Keystore,
    session: Session,
    *,
    sender: str,
    message_id: str,
    addresses: Sequence[str],
    limit: int,
) -> Refusal | None:
    """Return the refusal when a message's new accounts exceed the sender's hourly cap.

    `addresses` are the normalized recipients, `sender` the creator as stored. A message
    with more new addresses than the cap is refused for good (5xx); one that fits once the
    hour has passed is deferred (4xx) and the MTA retries it. Either way the admins see the
    metric and an audit entry (in `session`, which the caller commits).
    """
    quota = keystore.quota(session).check(sender, addresses, limit=limit)
    if not quota.exceeded:
        return None
    reply = "5xx" if quota.never_fits else "4xx"
    metrics.RECIPIENT_CAP.labels(reply=reply).inc()
    log.warning(
        "sender %s over the cap on new recipients: %d new, %d in the last hour, limit %d",
        sender,
        quota.new,
        quota.recent,
        quota.limit,
    )
    audit = keystore.audit(session)
    # The MTA retries a deferred message every few minutes: one entry per message and hour
    # is the alert, the metric counts every refusal.
    since = keystore.clock() - timedelta(hours=1)
    if not audit.search(action=CAP_AUDIT, actor=sender, target=message_id, since=since, limit=1):
        audit.record(
            CAP_AUDIT,
            actor=sender,
            target=message_id,
            detail=f"new={quota.new} last_hour={quota.recent} limit={quota.limit} reply={reply}",
        )
    if quota.never_fits:
        return Refusal(
            "recipient-cap",
            f"This message has {quota.new} recipients without an account; a sender may add "
            f"at most {quota.limit} new recipients per hour: send it to fewer new recipients "
            "at a time, or ask the administrator",
        )
    return Refusal(
        "recipient-cap",
        f"You added {quota.recent} new recipients in the last hour, and this message would "
        f"add {quota.new}; at most {quota.limit} per hour are allowed, so the message will "
        "be delivered later",
        temporary=True,
    )


def _same_address(first: str, second: str) -> bool:
    """Tell whether two spellings name the same mailbox (the keystore's normalization)."""
    try:
        return normalize_address(first) == normalize_address(second)
    except ValueError:
        return False


def _ascii(text: str) -> str:
    """Printable ASCII for reply texts."""
    return text.encode("ascii", "backslashreplace").decode("ascii")
