"""Resetting a forgotten password: a mailed one-time link, then the security answer.

The link proves that the person holds the account's mailbox; only the SHA-256 of its token
is stored, so a copy of the database opens no account. A token works once (the first post
of its button claims it with one conditional UPDATE, so two racing posts cannot both win)
and only for `reset_link_minutes`. Wrong answers count per account, from whatever client
IP: after `reset_answer_attempts` of them the self-service reset is closed until an admin
resets the account, so slow guessing gets nowhere.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from keystore.clock import Clock
from keystore.models import Recipient, ResetToken
from keystore.passwords import Hasher, verify_answer
from keystore.settings import SettingsService

LINKS_PER_HOUR = 3
"""At most this many reset links per account and hour: the form cannot flood a mailbox."""

ANSWER_WINDOW = timedelta(minutes=30)
"""How long after the link was used the question may be answered."""

ResetState = Literal["open", "closed", "no_answer", "inactive"]
AnswerOutcome = Literal["ok", "bad", "closed"]


def token_hash(token: str) -> str:
    """Return the hex SHA-256 under which a reset token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ResetAnswer:
    """The outcome of an answer; `failures` counts wrong answers so far, `limit` the most."""

    outcome: AnswerOutcome
    failures: int
    limit: int


class PasswordResets:
    """The password-reset part of `RecipientService` (same session, clock and hasher)."""

    session: Session
    clock: Clock
    hasher: Hasher
    rng: Callable[[int], bytes]

    def _answer_limit(self) -> int:
        return int(SettingsService(self.session).get().reset_answer_attempts)

    def reset_state(self, recipient: Recipient) -> ResetState:
        """Tell whether `recipient` may reset the password with the security question."""
        if recipient.status != "active":
            return "inactive"
        if not recipient.security_answer_hash or recipient.password_hash is None:
            return "no_answer"
        if recipient.reset_failures >= self._answer_limit():
            return "closed"
        return "open"

    def issue_reset_token(
        self, recipient: Recipient, *, ip: str = "", asked: datetime | None = None
    ) -> str | None:
        """Store a new reset link's token (hashed) and return it; None when too many lately.

        The link is valid for `reset_link_minutes` from `asked` (when the customer asked for
        it; default now).
        """
        now = asked or self.clock()
        # Links long expired go: the table holds a few rows per account at most.
        self.session.execute(
            delete(ResetToken).where(
                ResetToken.recipient_id == recipient.id,
                ResetToken.expires_at < now - timedelta(days=1),
            )
        )
        recent = self.session.scalar(
            select(func.count())
            .select_from(ResetToken)
            .where(
                ResetToken.recipient_id == recipient.id,
                ResetToken.created_at > now - timedelta(hours=1),
            )
        )
        if int(recent or 0) >= LINKS_PER_HOUR:
            return None
        minutes = int(SettingsService(self.session).get().reset_link_minutes)
        token = secrets.token_urlsafe(32)
        self.session.add(
            ResetToken(
                recipient_id=recipient.id,
                token_hash=token_hash(token),
                created_at=now,
                expires_at=now + timedelta(minutes=minutes),
                ip=ip[:64],
            )
        )
        self.session.flush()
        return token

    def use_reset_token(self, token: str) -> ResetToken | None:
        """Claim a mailed token for this reset; None when unknown, used or expired."""
        now = self.clock()
        claimed = self.session.execute(
            update(ResetToken)
            .where(
                ResetToken.token_hash == token_hash(token),
                ResetToken.used_at.is_(None),
                ResetToken.finished_at.is_(None),
                ResetToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        # Session.execute is typed to return a Result; for a DML statement it is a CursorResult.
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = self.session.scalar(
            select(ResetToken).where(ResetToken.token_hash == token_hash(token))
        )
        if row is not None:
            self.session.refresh(row)
        return row

    def active_reset(self, token_id: int) -> tuple[ResetToken, Recipient] | None:
        """Return a claimed, unfinished reset still inside its answer window, with its account."""
        row = self.session.get(ResetToken, token_id)
        if row is None or row.used_at is None or row.finished_at is not None:
            return None
        if row.used_at + ANSWER_WINDOW <= self.clock():
            return None
        recipient = self.session.get(Recipient, row.recipient_id)
        if recipient is None or self.reset_state(recipient) != "open":
            return None
        return row, recipient

    def check_reset_answer(self, recipient: Recipient, answer: str) -> ResetAnswer:
        """Check the answer to the security question, counting wrong ones per account.

        Each check first claims one of the account's attempts with a conditional UPDATE, so
        however many answers race (from any number of clients and portals), at most
        `reset_answer_attempts` of them are ever compared with the stored answer.
        """
        limit = self._answer_limit()
        claimed = self.session.execute(
            update(Recipient)
            .where(Recipient.id == recipient.id, Recipient.reset_failures < limit)
            .values(reset_failures=Recipient.reset_failures + 1)
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(recipient, ["reset_failures"])
        # Session.execute is typed to return a Result; for a DML statement it is a CursorResult.
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            self.hasher.waste_time(answer)
            return ResetAnswer("closed", recipient.reset_failures, limit)
        ok, new_hash = verify_answer(self.hasher, answer, recipient.security_answer_hash)
        if ok:
            if new_hash:
                recipient.security_answer_hash = new_hash
            recipient.reset_failures = 0
            self.session.flush()
            return ResetAnswer("ok", 0, limit)
        if recipient.reset_failures >= limit:
            self.finish_resets(recipient)
            return ResetAnswer("closed", recipient.reset_failures, limit)
        return ResetAnswer("bad", recipient.reset_failures, limit)

    def finish_resets(self, recipient: Recipient) -> None:
        """End every open reset of `recipient`: its mailed links stop working."""
        self.session.execute(
            update(ResetToken)
            .where(ResetToken.recipient_id == recipient.id, ResetToken.finished_at.is_(None))
            .values(finished_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        self.session.flush()

    def reopen_resets(self, recipient: Recipient) -> None:
        """Forget wrong answers (an admin reset): the self-service reset is open again."""
        recipient.reset_failures = 0
        self.finish_resets(recipient)
