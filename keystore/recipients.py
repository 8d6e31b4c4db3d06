"""Recipient accounts: creation, keys, authentication, back-off, password resets, search."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.addresses import normalize_address
from keystore.clock import Clock, utcnow
from keystore.errors import KeystoreError
from keystore.keys import KeyMaterial, KeyVersions
from keystore.languages import check_language
from keystore.lockout import (
    clear_address,
    clear_pair,
    register_pair_failure,
    register_success,
    throttled_until,
)
from keystore.masterkey import MasterKey, is_wrapped_text
from keystore.models import Recipient
from keystore.passwords import (
    ANSWER_MIN_LENGTH,
    Hasher,
    answer_too_short,
    new_pin,
    normalize_answer,
    normalize_pin,
)
from keystore.resets import PasswordResets
from keystore.sessions import end_sessions
from keystore.settings import SettingsService

_CREATE_ATTEMPTS = 5
# Sorts after every character, so `prefix <= address < prefix + _TOP` is a prefix match
# on a column ordered by code point.
_TOP = "\U0010ffff"

Outcome = Literal[
    "ok", "bad", "throttled", "expired", "inactive", "pin_required", "password_required"
]
STATUSES = ("active", "deactivated")
#: The longest phrase the column holds once wrapped (4 bytes a character at worst).
MAX_PHRASE = 120


def phrase_aad(recipient_id: int) -> bytes:
    """Associated data that binds a wrapped security phrase to its recipient account."""
    return b"webcrypt-recipient-phrase:" + str(recipient_id).encode("ascii")


@dataclass(frozen=True)
class AuthResult:
    """The outcome of a login attempt; `recipient` is set only when the outcome is "ok".

    "throttled": this address was tried wrongly too often from this client IP, which must
    wait until `locked_until`; "expired": the PIN was right but is too old.
    """

    outcome: Outcome
    recipient: Recipient | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the attempt succeeded."""
        return self.outcome == "ok"


def throttle_key(address: str) -> str:
    """Return the spelling under which failed logins of `address` are counted."""
    try:
        return normalize_address(address)
    except ValueError:
        return address.strip().lower()[:320]


class RecipientService(KeyVersions, PasswordResets):
    """Manages recipient accounts and their keys within one session."""

    def __init__(
        self,
        session: Session,
        *,
        clock: Clock = utcnow,
        master_key: MasterKey,
        hasher: Hasher | None = None,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.session = session
        self.clock = clock
        self.master_key = master_key
        self.hasher = hasher or Hasher()
        self.rng = rng

    # -- lookup -------------------------------------------------------------------------

    def get(self, address: str) -> Recipient | None:
        """Return the account of an address (any spelling), or None."""
        try:
            normalized = normalize_address(address)
        except ValueError:
            return None
        return self.session.scalar(select(Recipient).where(Recipient.address == normalized))

    def get_by_id(self, recipient_id: int) -> Recipient | None:
        """Return the account with this id, or None."""
        return self.session.get(Recipient, recipient_id)

    def get_or_create(self, address: str, *, created_by: str) -> tuple[Recipient, str | None]:
        """Return the account of `address`, creating it with a first key and a one-time PIN.

        The PIN is returned only to the call that created the account. Concurrent callers
        (threads or processes) end up with the same single account: the unique index on the
        address decides, and the losers read the winner's row.
        """
        normalized = normalize_address(address)
        for _ in range(_CREATE_ATTEMPTS):
            existing = self.get(normalized)
            if existing is not None:
                return existing, None
            pin, pin_hash = new_pin(self.hasher)
            try:
                with self.session.begin_nested():
                    recipient = Recipient(
                        address=normalized,
                        key_id=secrets.token_hex(8),
                        status="active",
                        pin_hash=pin_hash,
                        pin_issued_at=self.clock(),
                        created_at=self.clock(),
                        created_by=created_by,
                        failed_logins=0,
                        reset_failures=0,
                        read_receipts=False,
                    )
                    self.session.add(recipient)
                    self.session.flush()
                    self._add_key_version(recipient, 1)
                return recipient, pin
            except IntegrityError:
                continue
        raise KeystoreError(f"could not create the account for {normalized}; try again")

    # -- authentication -------------------------------------------------------------------

    def _failed(self, recipient: Recipient | None, key: str, ip: str) -> AuthResult:
        if recipient is not None:
            # The account's total, for the admin's view; the back-off is per address and IP.
            recipient.failed_logins = Recipient.failed_logins + 1
        now = self.clock()
        wait = register_pair_failure(self.session, key, ip, now)
        if recipient is not None:
            self.session.refresh(recipient, ["failed_logins"])
            # For the admin's view: the latest time until which some client must wait.
            if wait and (recipient.locked_until is None or recipient.locked_until < now + wait):
                recipient.locked_until = now + wait
        return AuthResult("bad")

    def _succeeded(self, recipient: Recipient, key: str, ip: str) -> AuthResult:
        if recipient.status != "active":
            return AuthResult("inactive")
        clear_pair(self.session, key, ip)
        register_success(self.session, recipient)
        return AuthResult("ok", recipient)

    def _check(
        self,
        recipient: Recipient | None,
        address: str,
        secret: str,
        hash_attr: str,
        missing: Outcome | None,
        ip: str,
    ) -> tuple[AuthResult, Recipient | None]:
        """Verify `secret` against the hash in `hash_attr`, with back-off and equal work.

        `missing` is the outcome when the account has no such hash (None: a failure). Unknown
        addresses are counted and slowed down like known ones, so neither the answer nor the
        back-off tells them apart. Returns the result and the account (to look at further).
        """
        key = throttle_key(address)
        until = throttled_until(self.session, key, ip, self.clock())
        if until is not None:
            self.hasher.waste_time(secret)
            return AuthResult("throttled", locked_until=until), None
        stored: str | None = getattr(recipient, hash_attr) if recipient is not None else None
        if recipient is not None and stored is None and missing:
            self.hasher.waste_time(secret)
            return AuthResult(missing), None
        if recipient is None:
            self.hasher.waste_time(secret)
            return self._failed(None, key, ip), None
        ok, new_hash = self.hasher.verify(secret, stored)
        if not ok:
            return self._failed(recipient, key, ip), None
        if new_hash:
            setattr(recipient, hash_attr, new_hash)
        return self._succeeded(recipient, key, ip), recipient

    def authenticate(self, address: str, password: str, *, ip: str = "") -> AuthResult:
        """Check a password; "pin_required" when the account has only its one-time PIN."""
        recipient = self.get(address)
        missing: Outcome | None = (
            "pin_required" if recipient is not None and recipient.needs_pin else None
        )
        return self._check(recipient, address, password, "password_hash", missing, ip)[0]

    def authenticate_pin(self, address: str, pin: str, *, ip: str = "") -> AuthResult:
        """Check the one-time PIN; "password_required" once a password has been set.

        A right PIN older than `pin_valid_days` gives "expired" (only someone who knows the
        PIN learns that): the adviser or an admin issues a new one.
        """
        recipient = self.get(address)
        missing: Outcome | None = (
            "password_required"
            if recipient is not None and recipient.password_hash is not None
            else None
        )
        result, account = self._check(
            recipient, address, normalize_pin(pin), "pin_hash", missing, ip
        )
        if result.ok and account is not None and self.pin_expired(account):
            return AuthResult("expired")
        return result

    def pin_expired(self, recipient: Recipient) -> bool:
        """Tell whether the account's one-time PIN is too old to be used."""
        if recipient.pin_hash is None or recipient.pin_issued_at is None:
            return False
        days = int(SettingsService(self.session).get().pin_valid_days)
        return recipient.pin_issued_at + timedelta(days=days) <= self.clock()

    # -- changes ----------------------------------------------------------------------------

    def set_password(self, recipient: Recipient, password: str) -> None:
        """Set a new password; the one-time PIN is used up and every session ends."""
        if not password:
            raise ValueError("the password must not be empty")
        recipient.password_hash = self.hasher.hash(password)
        recipient.pin_hash = None
        recipient.pin_issued_at = None
        end_sessions(self.session, recipient)

    def set_security_question(self, recipient: Recipient, question: str, answer: str) -> None:
        """Set the security question and (hashed, normalized) answer."""
        if not question.strip():
            raise ValueError("the security question must not be empty")
        if answer_too_short(answer):
            raise ValueError(
                f"the security answer must have at least {ANSWER_MIN_LENGTH} characters"
            )
        recipient.security_question = question.strip()[:255]
        recipient.security_answer_hash = self.hasher.hash(normalize_answer(answer))
        self.session.flush()

    def set_phone(self, recipient: Recipient, phone: str | None) -> None:
        """Store (or clear with None) the E.164 mobile number that PINs go to by SMS."""
        recipient.phone = phone or None
        self.session.flush()

    def set_security_phrase(self, recipient: Recipient, phrase: str | None) -> None:
        """Store (or clear with None) the phrase the portal shows before the password, wrapped.

        The phrase is wrapped under the master key, bound to the account id, so a copy of the
        database alone does not give it away.
        """
        cleaned = phrase.strip() if phrase else ""
        if len(cleaned) > MAX_PHRASE:
            raise ValueError(f"the security phrase must be at most {MAX_PHRASE} characters")
        if not cleaned:
            recipient.security_phrase = None
        else:
            if recipient.id is None:
                self.session.flush()  # the wrapping is bound to the account id
            recipient.security_phrase = self.master_key.wrap_text(cleaned, phrase_aad(recipient.id))
        self.session.flush()

    def security_phrase(self, recipient: Recipient) -> str | None:
        """Return the clear security phrase of `recipient` (None when none was chosen)."""
        return self.master_key.unwrap_text(
            recipient.security_phrase,
            phrase_aad(recipient.id),
            damaged=f"the stored security phrase of {recipient.address} is damaged; "
            "the customer can choose a new one in the portal profile",
        )

    def set_language(self, recipient: Recipient, lang: str | None) -> None:
        """Set the preferred language ("en", "de" or None for the default)."""
        recipient.language = check_language(lang)
        self.session.flush()

    def set_read_receipts(self, recipient: Recipient, enabled: bool) -> None:
        """Choose whether the adviser learns when this recipient opens a message."""
        recipient.read_receipts = enabled
        self.session.flush()

    def reset_pin(self, recipient: Recipient) -> str:
        """Issue a new one-time PIN and clear the password; returns the PIN to hand out."""
        pin, pin_hash = new_pin(self.hasher)
        self.install_pin(recipient, pin_hash)
        return pin

    def install_pin(self, recipient: Recipient, pin_hash: str) -> None:
        """Make a PIN drawn earlier with `new_pin` the account's login; clears password and lock.

        Every session of the account ends. For callers that must hand the PIN on (e.g. mail
        it) before the change is committed. An admin reset also reopens a self-service reset
        closed by wrong answers.
        """
        recipient.pin_hash = pin_hash
        recipient.pin_issued_at = self.clock()
        recipient.password_hash = None
        self.unlock(recipient)
        end_sessions(self.session, recipient)

    def record_login(self, recipient: Recipient) -> None:
        """Note a successful login (resets the failure counter and any lock).

        A security phrase still stored in clear by an older release is wrapped now.
        """
        now = self.clock()
        recipient.last_login_at = now
        recipient.last_activity_at = now
        register_success(self.session, recipient)
        stored = recipient.security_phrase
        if stored is not None and not is_wrapped_text(stored):
            self.set_security_phrase(recipient, stored)

    def touch_activity(self, recipient: Recipient) -> None:
        """Note activity (a message sealed for or opened by the recipient)."""
        recipient.last_activity_at = self.clock()
        self.session.flush()

    def set_status(self, recipient: Recipient, status: str) -> None:
        """Activate or deactivate an account; either way every session ends."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        recipient.status = status
        end_sessions(self.session, recipient)

    def end_sessions(self, recipient: Recipient) -> None:
        """End every session of the account (logout), on every instance."""
        end_sessions(self.session, recipient)

    def unlock(self, recipient: Recipient) -> None:
        """Lift every brake: back-off of the address, wrong security answers, open links."""
        clear_address(self.session, recipient.address)
        self.reopen_resets(recipient)
        register_success(self.session, recipient)

    def delete(self, recipient: Recipient) -> None:
        """Delete the account: every key version and all personal data are gone."""
        for row in self.key_versions(recipient):
            self._destroy(row)
        self.session.flush()
        self.session.delete(recipient)
        self.session.flush()

    # -- listing ----------------------------------------------------------------------------

    def search(self, prefix: str, *, limit: int = 50, offset: int = 0) -> list[Recipient]:
        """Return accounts whose address starts with `prefix` (case-insensitive), by address.

        A range query on the address index: no full table scan on any backend.
        """
        start = prefix.strip().lower()
        query = select(Recipient)
        if start:
            query = query.where(Recipient.address >= start, Recipient.address < start + _TOP)
        query = query.order_by(Recipient.address).limit(limit).offset(offset)
        return list(self.session.scalars(query))


__all__ = ["AuthResult", "KeyMaterial", "RecipientService"]
