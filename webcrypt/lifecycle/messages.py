"""Notices about sealed messages: unread, read receipts, expiry, and the withdraw offer."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from keystore.models import LedgerEntry, Recipient
from keystore.periodic import LifecycleService
from webcrypt.lifecycle.jobcontext import JobContext, normalized
from webcrypt.lifecycle.sending import Pending, SendResult, message_key
from webcrypt.lifecycle.withdrawal import withdraw_url
from webcrypt.mail.compose import Outgoing
from webcrypt.notices import expiry_mail, receipt_mail, unread_mail, withdraw_offer_mail
from webcrypt.sealing.notification import inbox_url

log = logging.getLogger(__name__)

UNREAD = "unread"
RECEIPT = "receipt"
EXPIRY = "expiry"
WITHDRAW_OFFER = "withdraw-offer"
KINDS = (UNREAD, RECEIPT, EXPIRY, WITHDRAW_OFFER)

RECEIPT_WINDOW = timedelta(days=7)
"""Openings older than this get no read receipt (housekeeping was off, or receipts are new)."""

OFFER_WINDOW = timedelta(days=2)
"""Messages sealed longer ago than this get no withdraw offer any more."""


def _not_yet_sent(
    lifecycle: LifecycleService, kind: str, entries: list[LedgerEntry]
) -> list[tuple[LedgerEntry, Recipient]]:
    """Return the entries, with their accounts, that have no notice of `kind` yet."""
    keys = [message_key(e.message_id, e.recipient_id) for e in entries]
    done = lifecycle.notices.recorded(kind, keys)
    todo = [e for e, k in zip(entries, keys, strict=True) if k not in done]
    accounts = lifecycle.recipients_by_id(e.recipient_id for e in todo)
    return [(e, accounts[e.recipient_id]) for e in todo if e.recipient_id in accounts]


def unread_notices(ctx: JobContext) -> SendResult:
    """Tell advisers about messages still unopened `unread_notice_days` after sealing."""
    days = ctx.settings.unread_notice_days
    if days <= 0:
        return SendResult()
    pending: list[Pending] = []
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        entries = lifecycle.unopened_since(ctx.now - timedelta(days=days), now=ctx.now)
        for entry, recipient in _not_yet_sent(lifecycle, UNREAD, entries):
            mail = unread_mail(entry, recipient=recipient.address, **ctx.written)
            pending.append(_pending(UNREAD, entry, mail))
    return ctx.sender.send_all(pending)


def read_receipts(ctx: JobContext) -> SendResult:
    """Send a read receipt for each first opening, where the adviser or the account wants one.

    Receipts are on for everybody with the global setting, for the messages to one
    recipient with the account's option, and for one adviser with the adviser option.
    """
    pending: list[Pending] = []
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        due = _not_yet_sent(lifecycle, RECEIPT, lifecycle.opened_since(ctx.now - RECEIPT_WINDOW))
        advisers = lifecycle.advisers_with_read_receipts(normalized(e.sender) for e, _ in due)
        for entry, recipient in due:
            if entry.first_opened_at is None:
                continue
            wanted = (
                ctx.settings.read_receipts
                or recipient.read_receipts
                or normalized(entry.sender) in advisers
            )
            if not wanted:
                continue
            mail = receipt_mail(
                entry,
                recipient=recipient.address,
                opened=entry.first_opened_at,
                **ctx.written,
            )
            pending.append(_pending(RECEIPT, entry, mail))
    return ctx.sender.send_all(pending)


def expiry_notices(ctx: JobContext) -> SendResult:
    """Remind recipients `expiry_notice_days` before a message expires (all, unread, never)."""
    days, mode = ctx.settings.expiry_notice_days, ctx.settings.expiry_notice_mode
    if days <= 0 or mode == "never":
        return SendResult()
    pending: list[Pending] = []
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        entries = lifecycle.expiring_within(
            ctx.now + timedelta(days=days), now=ctx.now, unread_only=mode == "unread"
        )
        mailbox = ctx.runtime.keystore.mailbox(session)
        for entry, recipient in _not_yet_sent(lifecycle, EXPIRY, entries):
            if recipient.status != "active":
                continue
            stored = mailbox.stored_as(entry.recipient_id, entry.message_id)
            mail = expiry_mail(
                entry,
                recipient=recipient.address,
                lang=recipient.language,
                portal_url=ctx.portal_url,
                inbox_link=inbox_url(ctx.portal_url, stored) if stored else "",
                **ctx.written,
            )
            pending.append(_pending(EXPIRY, entry, mail))
    return ctx.sender.send_all(pending)


def withdraw_offers(ctx: JobContext) -> SendResult:
    """Send the adviser of each new message a confirmation with a link that withdraws it."""
    if not ctx.settings.withdraw_link:
        return SendResult()

    pending: list[Pending] = []
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        entries = lifecycle.sealed_since(ctx.now - OFFER_WINDOW, now=ctx.now)
        by_message: dict[str, list[LedgerEntry]] = defaultdict(list)
        for entry in entries:
            by_message[entry.message_id].append(entry)
        done = lifecycle.notices.recorded(WITHDRAW_OFFER, [message_key(m) for m in by_message])
        accounts = lifecycle.recipients_by_id(e.recipient_id for e in entries)
        for message_id, rows in by_message.items():
            if message_key(message_id) in done:
                continue
            first = rows[0]
            mail = withdraw_offer_mail(
                adviser=first.sender,
                recipients=sorted(
                    accounts[r.recipient_id].address for r in rows if r.recipient_id in accounts
                ),
                message_id=message_id,
                sent=min(r.created_at for r in rows),
                expires=max(r.expires_at for r in rows),
                link=withdraw_url(ctx.runtime, message_id, first.sender),
                **ctx.written,
            )
            pending.append(
                Pending(WITHDRAW_OFFER, message_key(message_id), mail, message_id=message_id)
            )
    return ctx.sender.send_all(pending)


def _pending(kind: str, entry: LedgerEntry, mail: Outgoing) -> Pending:
    return Pending(
        kind,
        message_key(entry.message_id, entry.recipient_id),
        mail,
        message_id=entry.message_id,
        recipient_id=entry.recipient_id,
    )
