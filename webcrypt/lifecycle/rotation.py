"""Key rotation, crypto-shredding of key versions no message needs, and ledger retention.

Expired messages in secure mailboxes are deleted here too: their key version may still be
the newest, so the stored envelope goes by itself when the message expires.

Every account gets a new key version `key_rotation_days` after its newest one; new messages
are sealed with it. A version that is not the newest and that no unexpired message uses is
destroyed: every message sealed with it is unreadable from then on, for everybody. A
version is only destroyed once its successor is `SHRED_GRACE` old, because a message sealed
just before the rotation reaches the ledger only after the relay took it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from webcrypt.lifecycle.jobcontext import ACTOR, JobContext

log = logging.getLogger(__name__)

SHRED_GRACE = timedelta(days=1)
BATCH = 100


def rotate_keys(ctx: JobContext) -> int:
    """Add a new key version to every account whose newest one is due; returns how many."""
    cutoff = ctx.now - timedelta(days=ctx.settings.key_rotation_days)
    with ctx.session() as session:
        due = ctx.lifecycle(session).rotation_due(cutoff, limit=10 * BATCH)
    rotated = 0
    for start in range(0, len(due), BATCH):
        with ctx.session() as session:
            recipients = ctx.recipients(session)
            for recipient_id in due[start : start + BATCH]:
                # Checked again here: another run may have rotated it meanwhile.
                if recipients.rotate_key_if_older(recipient_id, cutoff):
                    rotated += 1
    if rotated:
        _audit(ctx, "keys.rotate", f"new key version for {rotated} accounts")
    return rotated


def shred_unused_versions(ctx: JobContext) -> int:
    """Destroy key versions that no unexpired message uses (never the newest); returns how many."""
    with ctx.session() as session:
        refs = ctx.lifecycle(session).unused_key_versions(now=ctx.now, grace=SHRED_GRACE)
    for start in range(0, len(refs), BATCH):
        with ctx.session() as session:
            recipients = ctx.recipients(session)
            for ref in refs[start : start + BATCH]:
                recipients.destroy_key_version(ref.recipient_id, ref.version)
    if refs:
        _audit(ctx, "keys.shred", f"destroyed {len(refs)} key versions no message uses")
    return len(refs)


def expire_mailboxes(ctx: JobContext) -> int:
    """Delete the secure mailbox messages whose expiry has passed; returns how many.

    Read or not, a stored message goes when it expires (`message_expiry_days`), in batches of
    `BATCH`, each in its own short transaction. Only what this run deleted is counted: two
    instances that overlap delete and report each message once.
    """
    deleted = 0
    while True:
        with ctx.session() as session:
            batch = ctx.runtime.keystore.mailbox(session).delete_expired(ctx.now, limit=BATCH)
        deleted += len(batch)
        if len(batch) < BATCH:
            break
    if deleted:
        _audit(ctx, "mailbox.expire", f"deleted {deleted} expired messages from secure mailboxes")
    return deleted


def purge_ledger(ctx: JobContext, notice_kinds: tuple[str, ...]) -> tuple[int, int]:
    """Delete ledger rows and notices past `ledger_retention_days`; returns both counts."""
    before = ctx.now - timedelta(days=ctx.settings.ledger_retention_days)
    with ctx.session() as session:
        lifecycle = ctx.lifecycle(session)
        rows = lifecycle.purge_ledger(created_before=before, now=ctx.now)
        notices = lifecycle.notices.purge(notice_kinds, before=before)
    if rows:
        _audit(ctx, "ledger.purge", f"purged {rows} ledger entries past retention")
    return rows, notices


def _audit(ctx: JobContext, action: str, detail: str) -> None:
    with ctx.session() as session:
        ctx.audit(session).record(action, actor=ACTOR, detail=detail)
