"""The password rule of recipients and admins: long enough, not common, not the address.

Recipients need `MIN_RECIPIENT_LENGTH` characters, admins `MIN_ADMIN_LENGTH`; the rest of
the rule is the same for both. The common passwords ship with the package
(`common-passwords.txt`). A password counts as common when, in lower case, it is on the
list, or becomes a listed word once the digits and symbols around it are taken off or its
digits are read as the letters they stand for ("P@ssw0rd!", "2026Sommer", "Sommer2026!"),
or is a listed word or a short one repeated, or a run along the alphabet, the digits or a
keyboard row ("cdefghijkl", "3456789012").
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

MIN_RECIPIENT_LENGTH = 10
MIN_ADMIN_LENGTH = 12
PasswordProblem = Literal["short", "common", "address"]
"""Why a password was refused; the portal words each for the recipient in their language."""
COMMON_FILE = Path(__file__).with_name("common-passwords.txt")
#: The shortest word taken from the list when digits and symbols have been taken off.
_MIN_CORE = 4
_AROUND = re.compile(r"^[\d\W_]+|[\d\W_]+$")
_REPEATED = re.compile(r"(.+?)\1+")
_RUNS = tuple(
    run * 2  # a run may wrap around: "7890123456"
    for run in (
        "0123456789",
        "9876543210",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiop",
        "qwertzuiop",
        "asdfghjkl",
        "yxcvbnm",
        "zxcvbnm",
    )
)
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
    return any(
        word in known or any(word in run for run in _RUNS)
        for word in candidates
        if len(word) >= _MIN_CORE
    )


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


def password_problem(password: str, email: str, *, min_length: int) -> PasswordProblem | None:
    """Return why `password` may not be the password of `email`, or None.

    An empty `email` skips the address rule.
    """
    if len(password) < min_length:
        return "short"
    if is_common(password):
        return "common"
    if email and mentions_address(password, email):
        return "address"
    return None


_ADMIN_MESSAGES: dict[PasswordProblem, str] = {
    "short": f"Choose at least {MIN_ADMIN_LENGTH} characters.",
    "common": "This is a common password that attackers try first. Choose another one.",
    "address": "The password must not contain your email address or its name part.",
}


def admin_password_problem(password: str, email: str) -> str | None:
    """Return why `password` may not be the password of the admin `email`, or None.

    An empty `email` skips the address rule.
    """
    problem = password_problem(password, email, min_length=MIN_ADMIN_LENGTH)
    return None if problem is None else _ADMIN_MESSAGES[problem]
