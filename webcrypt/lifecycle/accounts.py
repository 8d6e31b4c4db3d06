"""Unused accounts: a notice before deletion, then deletion with only a hash in the audit log.

An account counts as used when it was created, logged in, opened a message, or received a
new message. After `inactivity_days - inactivity_notice_days` without use the recipient gets
a notice with the deletion date; the account is deleted once it is unused for
`inactivity_days` AND the notice went out at least `inactivity_notice_days` earlier (so a
housekeeping that was off for a while, or a shortened setting, never deletes an account
without the full notice period). Using the account starts a new period: the notice of the
old period no longer counts, and a new one is sent when the time comes.
Deactivated accounts get no notice (their owners cannot log in) and are deleted after
`inactivity_days`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from keystore.models import Recipient
from webcrypt.lifecycle.jobcontext import ACTOR, JobContext
from webcrypt.lifecycle.sending import Pending, SendResult
from webcrypt.notices import inactivity_mail, sending_address
from webcrypt.runtime import effective_internal_domains

log = logging.getLogger(__name__)

INACTIVITY = "inactivity"
KINDS = (INACTIVITY,)
BATCH = 1000


def address_hash(address: str) -> str:
    """Return the audit trace of a deleted address: SHA-256 of its normalized form."""
    return "sha256:" + hashlib.sha256(address.encode("utf-8")).hexdigest()


def period_key(recipient_id: int, last_used: datetime) -> str:
    """Return the notice key of one period of non-use (it changes whenever the account is used)."""
    return f"{recipient_id}:{int(last_used.timestamp())}"


@dataclass
class InactivityResult:
    """Notices sent and accounts deleted by one run."""

    notices: SendResult
    deleted: int


def inactivity(ctx: JobContext) -> InactivityResult:
    """Send due inactivity notices, then delete the accounts whose time is up."""
    result = InactivityResult(notices=SendResult(), deleted=0)
    if ctx.settings.inactivity_notice_days > 0:
        after_id = 0
        while True:
            pending, after_id = _due_notices(ctx, after_id)
            sent = ctx.sender.send_all(pending)
            result.notices.sent += sent.sent
            result.notices.skipped += sent.skipped
            result.notices.failed.extend(sent.failed)
            if not after_id or sent.failed:
                break
    result.deleted = _delete_unused(ctx)
    return result


def _due_notices(ctx: JobContext, after_id: int) -> tuple[list[Pending], int]:
    """Return the notices due in one page of accounts, and the id to go on after (0: done)."""
    days, notice_days = ctx.settings.inactivity_days, ctx.settings.inactivity_notice_days
    pending: list[Pending] = []
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        candidates = lifecycle.inactive_since(
            ctx.now - timedelta(days=days - notice_days), after_id=after_id, limit=BATCH
        )
        active = [r for r in candidates if r.status == "active"]
        last = {r.id: lifecycle.last_used(r) for r in active}
        keys = {r.id: period_key(r.id, last[r.id]) for r in active}
        done = lifecycle.notices.recorded(INACTIVITY, list(keys.values()))
        for recipient in active:
            if keys[recipient.id] in done:
                continue
            deletion = max(
                last[recipient.id] + timedelta(days=days), ctx.now + timedelta(days=notice_days)
            )
            mail = inactivity_mail(
                recipient=recipient.address,
                sent_for=_sending_address(ctx, recipient),
                last_used=last[recipient.id],
                deletion=deletion,
                portal_url=ctx.portal_url,
                lang=recipient.language,
                **ctx.written,
            )
            pending.append(Pending(INACTIVITY, keys[recipient.id], mail, recipient_id=recipient.id))
    return pending, candidates[-1].id if len(candidates) == BATCH else 0


def _sending_address(ctx: JobContext, recipient: Recipient) -> str:
    """Return an address whose domain notices to this recipient come from."""
    # From the settings of this run: no keystore read while a session is open.
    configured = ctx.runtime.config.filter.internal_domains
    domains = effective_internal_domains(ctx.settings, configured).domains
    return sending_address(recipient.created_by, domains)


def _delete_unused(ctx: JobContext) -> int:
    cutoff = ctx.now - timedelta(days=ctx.settings.inactivity_days)
    deleted, after_id = 0, 0
    while True:
        with ctx.session() as session:
            page = ctx.lifecycle(session).inactive_since(cutoff, after_id=after_id, limit=BATCH)
            ids = [r.id for r in page]
        deleted += sum(1 for recipient_id in ids if _delete_if_unused(ctx, recipient_id, cutoff))
        if len(ids) < BATCH:
            return deleted
        after_id = ids[-1]


def _delete_if_unused(ctx: JobContext, recipient_id: int, cutoff: datetime) -> bool:
    """Delete one account in its own transaction, re-checking under a row lock."""
    notice_days = ctx.settings.inactivity_notice_days
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        recipient = lifecycle.lock_recipient(recipient_id)
        if recipient is None:
            return False
        last = lifecycle.last_used(recipient)
        if last >= cutoff:
            return False
        if recipient.status == "active" and notice_days > 0:
            noticed = lifecycle.notices.sent_at(INACTIVITY, period_key(recipient.id, last))
            if noticed is None or noticed > ctx.now - timedelta(days=notice_days):
                return False
        ctx.audit(session).record(
            "recipient.delete",
            actor=ACTOR,
            target=address_hash(recipient.address),
            detail=(
                f"account unused since {last.date().isoformat()} "
                f"(after {ctx.settings.inactivity_days} days); keys destroyed, data removed"
            ),
        )
        lifecycle.notices.forget_recipient(recipient.id)
        ctx.recipients(session).delete(recipient)
    log.info("deleted unused account %s", recipient_id)
    return True
