"""One incoming message from plan to relay to ledger, with an outcome per envelope recipient.

The order is what keeps the delivery contract: plan everything first (a failure there sends
nothing, so a triggered message is never relayed in plaintext), relay the mails one by one,
record which PIN mails went out, and answer 250 only for recipients whose mails were all
taken. The outcomes say what happened; `webcrypt.smtp.handler` turns them into SMTP/LMTP replies.

Exactly once: each mail the relay took is recorded in the keystore (`keystore.relayed`, a
digest of the transaction as received and a name for the mail) the moment the relay's 250
came, before the next mail and before the answer, ahead of the other keystore writes. When
the MTA retries a transaction (the filter was killed before its 250 reached the MTA, or a
later mail of it failed), it is looked up before any sealing work and the mails recorded are
not sent again. A crash duplicates a mail only between the final dot to the relay (from then
on the relay keeps it) and that record's commit (see docs/operations.md). Recording before
the dot would not help: a retry could not tell whether the relay had read it, and would have
to send the mail again to lose nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from keystore.errors import DuplicateRecord, KeystoreUnavailable
from keystore.relayed import forget_relayed, record_relayed, relayed_parts
from webcrypt import metrics
from webcrypt.errors import ContentError
from webcrypt.mail.message import domain_of
from webcrypt.smtp.admission import Refusal
from webcrypt.smtp.relay import RelayError
from webcrypt.smtp.sealer import PIN_NOTICE, Plan, Sealer

log = logging.getLogger("webcrypt.smtp.handler")

ANSWERED_BACKLOG = 10_000
"""Answered transactions whose records wait to be deleted (older ones expire instead)."""
FORGET_BATCH = 64
"""Answered transactions whose records are deleted together, outside the relay's path."""


@dataclass(frozen=True)
class Outcome:
    """What became of one envelope recipient; `webcrypt.smtp.handler` turns it into a reply.

    `result` is "delivered", "deferred" (try again later), "failed" (the relay refused for
    good) or "refused" (a retry cannot help); `cause` says whose fault it was: "keystore",
    "sealing", "relay", "address", "internal-secure", "untrusted-client", "sender-mismatch",
    "recipient-cap" (deferred or refused), "content" or "limits" (the last two: what the
    message contains).
    """

    result: str
    decision: str = ""
    cause: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when the recipient's mails were all relayed."""
        return self.result == "delivered"


class Delivery:
    """Runs the plan-relay-commit sequence for the filter."""

    def __init__(
        self, runtime: Any, *, per_recipient: bool = False, sealer: Sealer | None = None
    ) -> None:
        self.runtime = runtime
        self.per_recipient = per_recipient
        self.sealer = sealer or Sealer(runtime)
        self._relay: Any = None
        self._answered: deque[str] = deque(maxlen=ANSWERED_BACKLOG)

    @property
    def relay(self) -> Any:
        """The filter's relay client (opened on first use)."""
        if self._relay is None:
            self._relay = self.runtime.relay_for("filter")
        return self._relay

    async def deliver(
        self, raw: bytes, mail_from: str, rcpt_tos: list[str], *, trusted: bool
    ) -> list[Outcome]:
        """Process one message in a worker thread; return one reply per envelope recipient.

        The whole sequence runs in one thread: sealing is CPU and keystore work, the relay
        client blocks, and one hand-over per message costs less than one per step.
        `trusted` tells whether the SMTP client may have mail sealed.

        The caller must write its reply before it next waits for anything: the records of a
        transaction that needs no retry are forgotten once that has happened (`call_soon`
        runs after the calling task's next suspension), so an identical transaction later
        is new mail, not a retry. Records of a transaction whose reply may not have gone
        out stay (until expiry), and a retry sends nothing twice.
        """
        outcomes, message = await asyncio.to_thread(
            self.process, raw, mail_from, rcpt_tos, trusted=trusted
        )
        if message and not any(outcome.result == "deferred" for outcome in outcomes):
            asyncio.get_running_loop().call_soon(self._answered.append, message)
        return outcomes

    def process(
        self, raw: bytes, mail_from: str, rcpt_tos: list[str], *, trusted: bool
    ) -> tuple[list[Outcome], str]:
        """Process one message; return one outcome per envelope recipient, in order.

        The second item names the transaction when it relayed or recorded anything (its
        digest, see `transaction_digest`), else it is empty.
        """
        started = time.monotonic()
        metrics.SIZE.observe(len(raw))
        metrics.IN_FLIGHT.inc()
        plan: Plan | None = None
        sent_bytes = 0
        message = ""
        try:
            # Before any sealing work: a retry of a transaction whose mails all went out
            # then only skips them, and the lookup waits for no writer.
            digest = transaction_digest(raw, mail_from, rcpt_tos)
            done = self._relayed_before(digest)
            try:
                plan = self.sealer.plan(raw, mail_from, rcpt_tos, trusted=trusted)
            except Refusal as refusal:
                log.warning("message refused (%s): %s", refusal.cause, refusal.reason)
                result = "deferred" if refusal.temporary else "refused"
                replies = [Outcome(result, cause=refusal.cause, reason=refusal.reason)]
                replies *= len(rcpt_tos)
            except KeystoreUnavailable as exc:
                log.warning("keystore unavailable: %s", exc)
                replies = [Outcome("deferred", cause="keystore")] * len(rcpt_tos)
            except ContentError as exc:
                log.warning("message refused: %s", exc, exc_info=exc.__cause__ is not None)
                refused = Outcome("refused", cause=exc.cause, reason=str(exc))
                replies = [refused] * len(rcpt_tos)
            except Exception:
                log.exception("sealing failed")
                replies = [Outcome("deferred", cause="sealing")] * len(rcpt_tos)
            else:
                message = digest
                replies, sent_bytes = self._relay_and_commit(plan, rcpt_tos, message, done)
        finally:
            metrics.IN_FLIGHT.dec()
        duration = time.monotonic() - started
        self._observe(plan, raw, mail_from, rcpt_tos, replies, sent_bytes, duration)
        return replies, message

    def _relay_and_commit(
        self, plan: Plan, rcpt_tos: list[str], message: str, done: set[str]
    ) -> tuple[list[Outcome], int]:
        # Over LMTP each recipient has its own reply, so after a failure the other recipients'
        # mails still go out. Over SMTP one reply covers all: nothing more is sent, so that a
        # retried message is duplicated as little as possible.
        failures: dict[int, Outcome] = {}
        sent_bytes = 0
        parts = part_names(plan)
        for index, mail in enumerate(plan.outgoing):
            if failures and not self.per_recipient:
                failures[index] = failures[min(failures)]
                continue
            part = parts[index]
            if part is not None and part in done:
                log.info("a %s mail of this message was relayed before: not sent again", mail.kind)
                continue
            try:
                data = mail.content()
            except Exception as exc:  # work on the message alone: a retry fails the same way
                log.exception("building a %s mail failed", mail.kind)
                refusal = ContentError.from_exception(exc)
                failures[index] = Outcome("refused", cause=refusal.cause, reason=str(refusal))
                continue
            try:
                self.relay.send(
                    data,
                    mail_from=mail.mail_from,
                    rcpt_tos=list(mail.rcpt_tos),
                    crlf_only=mail.crlf_only,
                )
                sent_bytes += len(data)
                del data
            except RelayError as exc:
                metrics.RELAY_FAILURES.labels(temporary=str(exc.temporary).lower()).inc()
                log.warning("relay refused a %s mail: %s", mail.kind, exc.reason)
                result = "deferred" if exc.temporary else "failed"
                failures[index] = Outcome(result, cause="relay", reason=_oneline(exc.reason))
            except Exception:
                log.exception("relay failed")
                failures[index] = Outcome("deferred", cause="sealing")
            else:
                if part is not None:
                    self._remember(message, part)

        delivered = {
            rcpt
            for rcpt in rcpt_tos
            if rcpt not in plan.refused
            and not any(i in failures for i in plan.depends.get(rcpt, []))
        }
        if plan.needs_commit:
            try:
                self.sealer.commit(plan, delivered)
            except Exception as exc:
                # Everything went out: a retry would only duplicate it. The PIN lease expires
                # by itself; without the notice a later message may issue a new PIN.
                log.error("recording the PIN mail failed: %r", exc, exc_info=exc)
        outcomes = []
        for rcpt in rcpt_tos:
            if rcpt in plan.refused:
                cause, reason = plan.refused[rcpt]
                outcomes.append(Outcome("refused", cause=cause, reason=reason))
            elif rcpt not in delivered:
                failed = [failures[i] for i in plan.depends.get(rcpt, []) if i in failures]
                outcomes.append(failed[0])
            else:
                outcomes.append(Outcome("delivered", decision=plan.decisions.get(rcpt, "pass")))
        return outcomes, sent_bytes

    def prepare(self) -> None:
        """Run each statement about relayed mail once, before the first message.

        The first run of a statement compiles it; after a restart that would fall between
        the relay's acceptance and the record, while a backlog of retries arrives at once.
        """
        probe = "0" * 64
        with self.runtime.keystore.driver_transaction(read_only=True) as transaction:
            relayed_parts(transaction, probe)
        with self.runtime.keystore.driver_transaction() as transaction:
            record_relayed(transaction, probe, ["0" * 32], self.runtime.clock())
            forget_relayed(transaction, [probe])

    def _relayed_before(self, message: str) -> set[str]:
        """The parts of this transaction the relay took on an earlier attempt.

        A read, with no write lock to wait for. Before it, the records of transactions
        answered since are deleted (their MTAs have their replies and will not retry them):
        in batches, and at once when this transaction is one of them (the same mail sent
        again is new mail).
        """
        try:
            if message in self._answered or len(self._answered) >= FORGET_BATCH:
                self._forget_answered()
            with self.runtime.keystore.driver_transaction(read_only=True) as transaction:
                return relayed_parts(transaction, message)
        except Exception as exc:
            # Without the keystore a triggered message was deferred already; mail that needs
            # none goes out, and is duplicated only if an earlier attempt had relayed it.
            log.warning("cannot look up what was relayed before: %s", exc)
            return set()

    def _forget_answered(self) -> None:
        answered = []
        while self._answered:
            answered.append(self._answered.popleft())
        try:
            with self.runtime.keystore.driver_transaction() as transaction:
                forget_relayed(transaction, answered)
        except BaseException:
            self._answered.extendleft(reversed(answered))
            raise

    def _remember(self, message: str, part: str) -> None:
        """Record that the relay took a part: one insert, committed before anything else.

        Urgent: it overtakes the other writes of this process that wait for the keystore's
        write lock (the ledger entries of messages being sealed, the deletion of answered
        records), as each moment until it commits is one in which a crash duplicates a mail.
        """
        try:
            with self.runtime.keystore.driver_transaction(urgent=True) as transaction:
                record_relayed(transaction, message, [part], self.runtime.clock())
        except DuplicateRecord:
            pass  # recorded by an attempt running at the same time
        except Exception as exc:
            # The relay took the mail: a 4xx now would send it again. Without the record only
            # a crash before the reply duplicates it.
            log.error("recording a relayed mail failed: %r", exc)

    def _observe(
        self,
        plan: Plan | None,
        raw: bytes,
        mail_from: str,
        rcpt_tos: list[str],
        replies: list[Outcome],
        sent_bytes: int,
        duration: float,
    ) -> None:
        """Write the one log line per message and update the metrics."""
        decisions = [outcome.decision if outcome.ok else outcome.result for outcome in replies]
        for decision in decisions:
            metrics.RECIPIENTS.labels(decision=decision).inc()
        if plan is not None:
            pins = sum(1 for d in decisions if d == "sealed+pin")
            if pins:
                metrics.PINS.inc(pins)
        worst = (
            "4xx"
            if any(o.result == "deferred" for o in replies)
            else ("5xx" if any(not o.ok for o in replies) else "2xx")
        )
        metrics.MESSAGES.labels(reply=worst).inc()
        metrics.DURATION.observe(duration)
        summary = ",".join(f"{k}:{v}" for k, v in sorted(Counter(decisions).items()))
        message_id = plan.message_id if plan else ""
        log.info(
            "message id=%s sender_domain=%s recipients=%d decisions=%s triggers=%s "
            "size=%d sent=%d duration_ms=%.1f reply=%s",
            _short_id(message_id),
            domain_of(mail_from) or "-",
            len(rcpt_tos),
            summary,
            ",".join(plan.triggers) if plan and plan.triggers else "-",
            len(raw),
            sent_bytes,
            duration * 1000,
            worst,
        )
        if log.isEnabledFor(logging.DEBUG):
            for rcpt, decision, outcome in zip(rcpt_tos, decisions, replies, strict=True):
                log.debug(
                    "message id=%s rcpt=%s decision=%s cause=%s reason=%s",
                    _short_id(message_id),
                    rcpt,
                    decision,
                    outcome.cause or "-",
                    outcome.reason or "-",
                )


def transaction_digest(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
    """Name a received transaction: the same sender, recipients and bytes, the same name.

    An MTA retries a queued message with the bytes it sent before; two different messages
    never share them, because the MTA adds its own Received line (with its queue id).
    """
    digest = hashlib.sha256()
    for address in (mail_from, *rcpt_tos):
        digest.update(address.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(b"\0")
    digest.update(raw)
    return digest.hexdigest()


def part_names(plan: Plan) -> list[str | None]:
    """Name each outgoing mail of a plan by its kind and recipients (None: always sent).

    A retry plans the same mails under the same names. A PIN mail is always sent when the
    plan holds one: the sealer plans it only while no earlier PIN mail is known to be out,
    and a new one carries a new PIN.
    """
    names: list[str | None] = []
    seen: Counter[str] = Counter()
    for mail in plan.outgoing:
        if mail.kind == PIN_NOTICE:
            names.append(None)
            continue
        label = "\0".join((mail.kind, *mail.rcpt_tos))
        seen[label] += 1
        text = f"{label}\0{seen[label]}".encode("utf-8", "surrogateescape")
        names.append(hashlib.sha256(text).hexdigest()[:32])
    return names


def _short_id(message_id: str) -> str:
    """The Message-ID for the log line (it names no recipient), shortened."""
    return _oneline(message_id)[:200] or "-"


def _oneline(text: str) -> str:
    # Header text may hold undecodable bytes (surrogate escapes): written as escapes.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return " ".join(text.split())[:300]
