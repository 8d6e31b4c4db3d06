"""The admin password rule: long enough, not a common password, not made of the address.

The common passwords ship with the package (`common-passwords.txt`). A password counts as
common when, in lower case, it is on the list, or becomes a listed word once the digits
and symbols around it are taken off or its digits are read as the letters they stand for
("P@ssw0rd!", "2026Sommer", "Sommer2026!"), or is a listed word or a short one repeated.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

MIN_ADMIN_LENGTH = 12
COMMON_FILE = Path(__file__).with_name("common-passwords.txt")
#: The shortest word taken from the list when digits and symbols have been taken off.
_MIN_CORE = 4
_AROUND = re.compile(r"^[\d\W_]+|[\d\W_]+$")
_REPEATED = re.compile(r"(.+?)\1+")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, in lower case."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """Tell whether `password` is a common password or a listed word dressed up."""
    known = common_passwords()
    lowered = password.strip().lower()
    if len(set(lowered)) <= 3:
        return True  # "aaaaaaaaaaaa", "abababababab"
    stripped = _AROUND.sub("", lowered)
    candidates = {
        lowered,
        stripped,
        stripped.translate(_LEET),
        _AROUND.sub("", lowered.translate(_LEET)),
    }
    for candidate in list(candidates):
        repeated = _REPEATED.fullmatch(candidate)
        if repeated:  # "winterwinter", "abcabcabcabc"
            unit = repeated.group(1)
            if len(unit) < _MIN_CORE:
                return True
            candidates.add(unit)
    return any(word in known for word in candidates if len(word) >= _MIN_CORE)


def mentions_address(password: str, email: str) -> bool:
    """Tell whether `password` is or contains the address or its local part (or a piece of it)."""
    lowered = password.lower()
    address = email.strip().lower()
    local = address.partition("@")[0]
    if not local:
        return False
    if lowered in (address, local) or address in lowered:
        return True
    pieces = {local, *re.split(r"[._+\-]+", local)}
    return any(len(piece) >= 3 and piece in lowered for piece in pieces)


def admin_password_problem(password: str, email: str) -> str | None:
    """Return why `password` may not be the password of the admin `email`, or None.

    An empty `email` skips the address rule.
    """
    if len(password) < MIN_ADMIN_LENGTH:
        return f"Choose at least {MIN_ADMIN_LENGTH} characters."
    if is_common(password):
        return "This is a common password that attackers try first. Choose another one."
    if email and mentions_address(password, email):
        return "The password must not contain your email address or its name part."
    return None
