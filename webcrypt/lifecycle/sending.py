"""Send each notice mail at most once, even when two housekeeping runs overlap.

The order is: build the mail, claim ``(kind, key)`` in the ``notices`` table and commit,
then hand the mail to the relay. The unique constraint lets exactly one run win the
claim; only the winner sends. When the relay refuses for now (4xx, unreachable), the
claim is withdrawn so the next run tries again; a permanent refusal (5xx) keeps the
claim, so a bad address is not retried every few minutes.

The remaining window — the process dies after the claim committed and before the relay
took the mail — loses that one notice: notices are at-most-once. A reminder that does not
come is the lesser evil compared to duplicate mails whenever a run is interrupted, and the
window is one SMTP transaction long.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keystore.clock import Clock
from keystore.noticelog import NoticeService
from webcrypt.mail.compose import Outgoing
from webcrypt.smtp.relay import RelayError

if TYPE_CHECKING:
    from webcrypt.runtime import Runtime

log = logging.getLogger(__name__)


def message_key(message_id: str, recipient_id: int | None = None) -> str:
    """Return a short notice key for a message (and recipient): ids can be long."""
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:40]
    return digest if recipient_id is None else f"{recipient_id}:{digest}"


@dataclass
class Pending:
    """A notice that is due: what to record and the mail to send."""

    kind: str
    key: str
    mail: Outgoing
    message_id: str | None = None
    recipient_id: int | None = None


@dataclass
class SendResult:
    """What happened to a batch of pending notices."""

    sent: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


class NoticeSender:
    """Claims and sends notices through the portal relay."""

    def __init__(self, runtime: Runtime, *, clock: Clock) -> None:
        self.runtime = runtime
        self.keystore = runtime.keystore
        self.clock = clock

    def claim(self, notice: Pending) -> bool:
        """Claim the notice in its own transaction; False when another run has it."""
        with self.keystore.session() as session:
            return NoticeService(session, clock=self.clock).record(
                notice.kind,
                notice.key,
                message_id=notice.message_id,
                recipient_id=notice.recipient_id,
            )

    def send(self, notice: Pending) -> bool:
        """Claim and send one notice; True when this call sent it.

        Raises RelayError when the relay refused; the claim is then withdrawn if the
        refusal was temporary.
        """
        if not self.claim(notice):
            return False
        mail = notice.mail
        try:
            self.runtime.relay_for("portal").send(
                mail.build(), mail_from=mail.mail_from, rcpt_tos=list(mail.rcpt_tos)
            )
        except RelayError as exc:
            if exc.temporary:
                with self.keystore.session() as session:
                    NoticeService(session, clock=self.clock).forget(notice.kind, notice.key)
            raise
        log.info("sent %s notice %s", notice.kind, notice.key)
        return True

    def send_all(self, notices: list[Pending]) -> SendResult:
        """Send every notice that no one sent before; stop at the first relay outage."""
        result = SendResult()
        for index, notice in enumerate(notices):
            try:
                if self.send(notice):
                    result.sent += 1
                else:
                    result.skipped += 1
            except RelayError as exc:
                log.warning("%s notice %s not sent: %s", notice.kind, notice.key, exc.reason)
                result.failed.append(f"{notice.kind} {notice.key}: {exc.reason}")
                if exc.temporary:
                    # The relay is down: the rest would fail the same way; next run retries.
                    result.failed.extend(
                        f"{n.kind} {n.key}: not tried" for n in notices[index + 1 :]
                    )
                    break
        return result
