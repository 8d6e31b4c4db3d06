"""Who may have mail sealed, for whom, how many new accounts, and when: checked before sealing.

A message to seal is refused as a whole (`Refusal`) when the SMTP client is not trusted, when
the From: header does not name the envelope sender's internal mailbox, or when its new
recipients would take the sender over the hourly cap. Each check runs before anything costly
(an account, an argon2 PIN hash, encryption) happens. Before any of that, every message
reserves its memory in the `MemoryBudget` of the filter process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from email.utils import getaddresses

from keystore.addresses import normalize_address
from keystore.db import Keystore, Session
from webcrypt import metrics
from webcrypt.errors import WebcryptError
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


MEMORY_FACTOR = 2.5
"""The most memory one message takes in the filter, as a multiple of its size: the received
message, the sealed payload (base64 of its compressed bytes) and slices of work."""

MESSAGE_OVERHEAD = 4 * 1024 * 1024
"""What sealing a message of any size takes besides (the compressor's window and tables,
buffers of the encryption); `bench/memory.py` measures the sum for 1, 10 and 50 MiB."""

DEFAULT_BUDGET_PER_TRANSACTION = int(10 * 1024 * 1024 * MEMORY_FACTOR) + MESSAGE_OVERHEAD
"""The default budget per transaction slot: a message of the default size limit (10 MiB)."""


class BudgetTooSmall(WebcryptError):
    """The memory budget cannot hold one message of the largest allowed size."""


class MemoryBudget:
    """The bytes of memory that the messages in flight in one filter process may take together.

    A message reserves `MEMORY_FACTOR` times its size and `MESSAGE_OVERHEAD` before it is
    sealed and frees it once
    answered; one that does not fit waits until others finish, at most `wait` seconds, and is
    then turned away for now (the MTA retries). Used on the filter's event loop only.
    """

    def __init__(self, budget: int, *, factor: float = MEMORY_FACTOR) -> None:
        self.budget = budget
        self.factor = factor
        self.reserved = 0
        self._logged_limit = 0

    @classmethod
    def from_config(cls, memory_budget: int, max_transactions: int) -> MemoryBudget:
        """The configured budget; 0 means `max_transactions` x 25 MiB."""
        return cls(memory_budget or max_transactions * DEFAULT_BUDGET_PER_TRANSACTION)

    def cost(self, size: int) -> int:
        """The memory a message of `size` bytes is counted with."""
        return int(size * self.factor) + MESSAGE_OVERHEAD

    @property
    def largest(self) -> int:
        """The largest message the budget can hold at all."""
        return max(0, int((self.budget - MESSAGE_OVERHEAD) / self.factor))

    def _too_small(self, max_message_size: int) -> str:
        return (
            f"filter.memory_budget is {self.budget} bytes, but a message of the "
            f"max_message_size setting ({max_message_size} bytes) needs "
            f"{self.cost(max_message_size)} ({self.factor}x its size and 4 MiB): raise "
            f"filter.memory_budget to at least {self.cost(max_message_size)} or lower the "
            "max_message_size setting"
        )

    def check(self, max_message_size: int) -> None:
        """Raise `BudgetTooSmall` when a message of the allowed size could never fit."""
        if self.cost(max_message_size) > self.budget:
            raise BudgetTooSmall(self._too_small(max_message_size))

    def size_limit(self, max_message_size: int) -> int:
        """The size limit to enforce: the setting, or what the budget holds when that is less.

        A setting raised at run time beyond the budget is logged as an error once per
        change and enforced at what the budget holds (a larger message could never pass).
        """
        if self.cost(max_message_size) <= self.budget:
            return max_message_size
        if self._logged_limit != max_message_size:
            self._logged_limit = max_message_size
            log.error(
                "%s; accepting messages up to %d bytes",
                self._too_small(max_message_size),
                self.largest,
            )
        return self.largest

    def fits(self, size: int) -> bool:
        """Tell whether a message of `size` bytes fits in what is free now."""
        return self.reserved + self.cost(size) <= self.budget

    async def wait_for_room(self, size: int, wait: float) -> bool:
        """Wait up to `wait` seconds until a message of `size` bytes fits; tell whether it does."""
        deadline = time.monotonic() + wait
        while not self.fits(size):
            if self.cost(size) > self.budget or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def reserve(self, size: int, wait: float) -> bool:
        """Reserve memory for a message, waiting up to `wait` seconds; False when it does not fit.

        Every True must be followed by one `release` of the same size.
        """
        if not await self.wait_for_room(size, wait):
            metrics.BUDGET_REFUSALS.inc()
            return False
        self.reserved += self.cost(size)
        metrics.BUDGET_RESERVED.set(self.reserved)
        return True

    def release(self, size: int) -> None:
        """Free what `reserve` took for a message of `size` bytes."""
        self.reserved -= self.cost(size)
        metrics.BUDGET_RESERVED.set(self.reserved)


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
