"""Hashing of passwords, PINs and security answers (argon2id through passlib)."""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass, field

from passlib.context import CryptContext

# RFC 9106 second recommended option: 64 MiB, 3 passes, 4 lanes.
DEFAULT_MEMORY_KIB = 65536
DEFAULT_TIME_COST = 3
DEFAULT_PARALLELISM = 4

PIN_DIGITS = 8
_PIN_SEPARATORS = re.compile(r"[\s\-.]+")


def make_context(
    *,
    memory_kib: int = DEFAULT_MEMORY_KIB,
    time_cost: int = DEFAULT_TIME_COST,
    parallelism: int = DEFAULT_PARALLELISM,
) -> CryptContext:
    """Return a CryptContext that hashes with argon2id and flags other parameters as outdated."""
    return CryptContext(
        schemes=["argon2", "pbkdf2_sha256"],
        deprecated=["pbkdf2_sha256"],
        argon2__type="ID",
        argon2__memory_cost=memory_kib,
        argon2__rounds=time_cost,
        argon2__parallelism=parallelism,
    )


@dataclass
class Hasher:
    """Hashes and verifies secrets; unknown accounts are verified against a dummy hash.

    Each hash or verification takes the argon2 memory cost (64 MiB by default) while it
    runs: at most `concurrency` of them run at once in this process (0: no bound), the
    others wait their turn, so a burst of new accounts cannot take all the memory.
    """

    context: CryptContext = field(default_factory=make_context)
    concurrency: int = 0
    _dummy: str | None = field(default=None, init=False, repr=False)
    _slots: threading.BoundedSemaphore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.concurrency:
            self._slots = threading.BoundedSemaphore(self.concurrency)

    def _bounded(self) -> contextlib.AbstractContextManager[object]:
        return self._slots if self._slots is not None else contextlib.nullcontext()

    def hash(self, secret: str) -> str:
        """Return a new hash of `secret`."""
        with self._bounded():
            return str(self.context.hash(secret))

    def verify(self, secret: str, stored: str | None) -> tuple[bool, str | None]:
        """Check `secret` against `stored`; returns (ok, replacement hash or None).

        A missing hash costs the same work as a real one (against a dummy hash) and fails.
        """
        if stored is None:
            self.waste_time(secret)
            return False, None
        try:
            with self._bounded():
                ok, new_hash = self.context.verify_and_update(secret, stored)
        except ValueError:
            self.waste_time(secret)
            return False, None
        return bool(ok), (str(new_hash) if ok and new_hash else None)

    def waste_time(self, secret: str) -> None:
        """Do the work of one verification, so unknown accounts cannot be told apart by time."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        with self._bounded():
            self.context.verify(secret, self._dummy)


def generate_pin() -> str:
    """Return a new one-time PIN: 8 digits in two groups, e.g. ``"0421 9377"``."""
    digits = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    return f"{digits[:4]} {digits[4:]}"


def new_pin(hasher: Hasher) -> tuple[str, str]:
    """Draw a one-time PIN and hash it, without touching the database: (pin, hash)."""
    pin = generate_pin()
    return pin, hasher.hash(normalize_pin(pin))


def normalize_pin(pin: str) -> str:
    """Return the digits of a PIN as typed (spaces, dashes and dots are ignored)."""
    return _PIN_SEPARATORS.sub("", pin.strip())


ANSWER_MIN_LENGTH = 4
"""The fewest characters a security answer may have, spaces not counted."""


def normalize_answer(answer: str) -> str:
    """Return a security answer folded for comparison (case, width and spacing ignored).

    NFKC, then case folding, then NFKC again: folding can leave characters that NFKC would
    compose, so both spellings of such an answer meet in one form.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", answer).casefold())
    return " ".join(folded.split())


def answer_too_short(answer: str) -> bool:
    """Tell whether an answer has fewer than `ANSWER_MIN_LENGTH` characters besides spaces."""
    return len(normalize_answer(answer).replace(" ", "")) < ANSWER_MIN_LENGTH


def legacy_normalize_answer(answer: str) -> str:
    """Return an answer folded as earlier releases stored it (without the second NFKC)."""
    return " ".join(unicodedata.normalize("NFKC", answer).casefold().split())


def verify_answer(hasher: Hasher, answer: str, stored: str | None) -> tuple[bool, str | None]:
    """Check a typed security answer against `stored`; returns (ok, replacement hash or None).

    An answer stored by an earlier release under the older folding still matches, and is
    then re-hashed in today's form (the replacement hash).
    """
    normalized = normalize_answer(answer)
    ok, new_hash = hasher.verify(normalized, stored)
    if ok:
        return True, new_hash
    legacy = legacy_normalize_answer(answer)
    if legacy == normalized:  # the usual case: one verification, as for any wrong answer
        return False, None
    ok, _ = hasher.verify(legacy, stored)
    return (True, hasher.hash(normalized)) if ok else (False, None)
