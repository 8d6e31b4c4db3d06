"""Withdrawal by the adviser through a signed link in the confirmation mail.

The link carries the message id and the adviser's address, signed with an HMAC key derived
from the portal's session secret; it needs no database row and works until the message
expires. Opening the link only shows what would be withdrawn (`inspect_withdrawal`); the
portal asks for a confirming POST, which calls `withdraw`, so that link scanners and
prefetching mail clients cannot withdraw anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from keystore.audit import AuditService
from keystore.ledger import LedgerService
from keystore.periodic import LifecycleService
from webcrypt.bootstrap import read_session_secret
from webcrypt.lifecycle.jobcontext import normalized

if TYPE_CHECKING:
    from webcrypt.runtime import Runtime

PURPOSE = b"webcrypt withdraw link v1"
Status = Literal["ready", "withdrawn", "expired", "invalid"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), PURPOSE, hashlib.sha256).digest()


def make_token(secret: str, message_id: str, sender: str) -> str:
    """Return the signed token that names one message of one adviser."""
    payload = _b64(json.dumps([message_id, sender], separators=(",", ":")).encode("utf-8"))
    mac = hmac.new(_signing_key(secret), payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def read_token(secret: str, token: str) -> tuple[str, str] | None:
    """Return (message id, adviser) from a genuine token, None for anything else."""
    payload, _, signature = token.strip().partition(".")
    try:
        expected = hmac.new(_signing_key(secret), payload.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        values = json.loads(_unb64(payload))
    except (UnicodeError, ValueError, binascii.Error):
        return None
    if not (
        isinstance(values, list) and len(values) == 2 and all(isinstance(v, str) for v in values)
    ):
        return None
    return values[0], values[1]


def withdraw_url(runtime: Runtime, message_id: str, sender: str) -> str:
    """Return the portal link that withdraws a message."""
    token = make_token(read_session_secret(runtime.config), message_id, sender)
    return f"{str(runtime.config.portal.public_url).rstrip('/')}/withdraw/{token}"


@dataclass(frozen=True)
class Withdrawal:
    """What a withdraw link refers to, and its state: ready, withdrawn, expired or invalid."""

    status: Status
    message_id: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = field(default_factory=tuple)
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    withdrawn_at: datetime | None = None


def _state(runtime: Runtime, token: str, *, perform: bool, ip: str = "") -> Withdrawal:
    decoded = read_token(read_session_secret(runtime.config), token)
    if decoded is None:
        return Withdrawal("invalid")
    message_id, sender = decoded
    now = runtime.clock()
    keystore = runtime.keystore
    with keystore.session() as session:
        ledger = LedgerService(session, clock=runtime.clock)
        rows = [r for r in ledger.find(message_id) if normalized(r.sender) == normalized(sender)]
        if not rows:
            return Withdrawal("invalid")
        live = [r for r in rows if r.revoked_at is None and r.expires_at > now]
        if perform and live:
            ledger.revoke(message_id, by=sender)
            AuditService(session, clock=runtime.clock).record(
                "message.withdraw",
                actor=sender,
                target=message_id[:320],
                ip=ip,
                detail=f"withdrawn by link for {len(live)} recipients",
            )
            rows = ledger.find(message_id)
        accounts = LifecycleService(session, clock=runtime.clock).recipients_by_id(
            r.recipient_id for r in rows
        )
        revoked = [r.revoked_at for r in rows if r.revoked_at is not None]
        result = Withdrawal(
            "ready",
            message_id=message_id,
            sender=sender,
            recipients=tuple(sorted(a.address for a in accounts.values())),
            sent_at=min(r.created_at for r in rows),
            expires_at=max(r.expires_at for r in rows),
            withdrawn_at=min(revoked) if revoked else None,
        )
    if len(revoked) == len(rows):
        return _replace(result, "withdrawn")
    if result.expires_at is not None and result.expires_at <= now:
        return _replace(result, "expired")
    return result


def _replace(result: Withdrawal, status: Status) -> Withdrawal:

    return replace(result, status=status)


def inspect_withdrawal(runtime: Runtime, token: str) -> Withdrawal:
    """Tell what the link refers to, without changing anything (for the GET page)."""
    return _state(runtime, token, perform=False)


def withdraw(runtime: Runtime, token: str, *, ip: str = "") -> Withdrawal:
    """Withdraw the message the link names (for the confirming POST); idempotent.

    Returns the new state: "withdrawn" on success or when it already was, "expired" or
    "invalid" when there was nothing to withdraw.
    """
    return _state(runtime, token, perform=True, ip=ip)
