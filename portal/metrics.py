"""The portal's Prometheus counters, counted where each outcome is decided.

`/metrics` (see `portal.health`) serves them with the rest of the process's registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LOGINS = Counter(
    "webcrypt_portal_logins_total", "Recipient login attempts by outcome (ok, failed).", ["outcome"]
)
OPENS = Counter(
    "webcrypt_portal_opens_total",
    "Attempts to read a message by outcome (ok, or the problem shown: expired, revoked, ...).",
    ["outcome"],
)
REPLIES = Counter(
    "webcrypt_portal_replies_total", "Secure replies and new messages by outcome.", ["outcome"]
)
ADMIN_LOGINS = Counter(
    "webcrypt_admin_logins_total", "Admin login attempts by outcome.", ["outcome"]
)
ADMIN_ACTIONS = Counter(
    "webcrypt_admin_actions_total", "Audited admin actions by action name.", ["action"]
)


MAILBOX_MESSAGES = Gauge(
    "webcrypt_mailbox_messages", "Messages held in secure mailboxes (read at each scrape)."
)
MAILBOX_UNREAD = Gauge("webcrypt_mailbox_unread_messages", "Mailbox messages never opened.")
MAILBOX_BYTES = Gauge("webcrypt_mailbox_bytes", "Bytes of stored envelopes in secure mailboxes.")
MAILBOX_ACCOUNTS = Gauge(
    "webcrypt_mailbox_accounts", "Accounts with at least one message in their secure mailbox."
)


def mailbox_totals(accounts: int, messages: int, size: int, unread: int) -> None:
    """Set the mailbox gauges to the deployment's current figures."""
    MAILBOX_ACCOUNTS.set(accounts)
    MAILBOX_MESSAGES.set(messages)
    MAILBOX_BYTES.set(size)
    MAILBOX_UNREAD.set(unread)


def login(outcome: str) -> None:
    """Count a recipient login attempt: "ok", "failed" or "rate_limited"."""
    LOGINS.labels(outcome=outcome).inc()


def opening(outcome: str) -> None:
    """Count an attempt to read a message: "ok" or the kind of problem page shown."""
    OPENS.labels(outcome=outcome).inc()


def reply(outcome: str) -> None:
    """Count a submitted reply or new message: "sent", "failed" or "rate_limited"."""
    REPLIES.labels(outcome=outcome).inc()


def admin_login(outcome: str) -> None:
    """Count an admin login attempt: "ok" or "failed"."""
    ADMIN_LOGINS.labels(outcome=outcome).inc()


def admin_action(action: str) -> None:
    """Count an audited admin action."""
    ADMIN_ACTIONS.labels(action=action).inc()
