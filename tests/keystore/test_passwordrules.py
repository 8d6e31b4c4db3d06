"""One password rule for recipients and admins; only the length differs."""

from __future__ import annotations

import pytest

from keystore.passwordrules import (
    MIN_ADMIN_LENGTH,
    MIN_RECIPIENT_LENGTH,
    password_problem,
)

RECIPIENT = "anna.mueller@example.net"


def recipient_problem(password: str) -> str | None:
    return password_problem(password, RECIPIENT, min_length=MIN_RECIPIENT_LENGTH)


def test_the_lengths_differ_and_nothing_else() -> None:
    assert (MIN_RECIPIENT_LENGTH, MIN_ADMIN_LENGTH) == (10, 12)
    assert recipient_problem("Tz8#kq2!L") == "short"
    assert recipient_problem("Tz8#kq2!Lm") is None
    assert password_problem("Tz8#kq2!Lm", "", min_length=MIN_ADMIN_LENGTH) == "short"


@pytest.mark.parametrize(
    "password",
    [
        "Sommer2026!",  # on the shipped list, which recipients did not get before
        "Borussia1909",
        "P@ssw0rd2026",
        "cdefghijklmn",  # runs along the alphabet, the digits, a keyboard row
        "7890123456",
        "ASDFGHJKL!!",
    ],
)
def test_common_and_run_passwords_are_refused_for_recipients(password: str) -> None:
    assert recipient_problem(password) == "common"


@pytest.mark.parametrize("password", ["mueller lives here", "anna.mueller@example.net"])
def test_the_address_or_a_piece_of_it_is_refused(password: str) -> None:
    assert recipient_problem(password) == "address"


def test_the_address_rule_is_skipped_without_an_address() -> None:
    assert password_problem("mueller lives here", "", min_length=10) is None
