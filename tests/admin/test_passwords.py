"""The admin password rule: 12 characters, not a common password, not the admin's address."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from keystore.passwordrules import admin_password_problem, common_passwords, is_common
from tests.admin.conftest import ADMIN, create_admin
from tests.admin.conftest import text_of as page_text
from tests.admin.helpers import ONE_TIME, confirm_enrollment, enrollment
from tests.portal.helpers import FakeClock
from webcrypt.runtime import Runtime


@pytest.mark.parametrize(
    "password",
    [
        "Sommer2026!!",
        "Passwort1234",
        "password123!",
        "P@ssw0rd2026!",
        "2026Willkommen",
        "qwertzuiop123",
        "1q2w3e4r5t6y",
        "123456789012",
        "aaaaaaaaaaaa",
        "WinterWinter",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert is_common(password)
    assert admin_password_problem(password, ADMIN) == (
        "This is a common password that attackers try first. Choose another one."
    )


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("chef@bank.example", "chef@bank.example"),
        ("my chef@bank.example pw", "chef@bank.example"),
        ("chefchefchef", "chef@bank.example"),
        ("i am the chef of it all", "chef@bank.example"),
        ("mueller lives here 42", "anna.mueller@bank.example"),
    ],
)
def test_passwords_made_of_the_address_are_refused(password: str, email: str) -> None:
    assert admin_password_problem(password, email) == (
        "The password must not contain your email address or its name part."
    )


@pytest.mark.parametrize(
    "password", ["admin password 2026", "correct horse battery staple", "Tz8#kq2!Lm9@xV"]
)
def test_good_passwords_pass(password: str) -> None:
    assert admin_password_problem(password, ADMIN) is None


def test_the_length_rule_stays() -> None:
    assert admin_password_problem("Xk8#q2!Lm9@", ADMIN) == "Choose at least 12 characters."


def test_the_shipped_list_is_sizeable_and_lower_case() -> None:
    listed = common_passwords()
    assert len(listed) > 3000
    assert all(word == word.lower() and word.strip() == word for word in listed)
    assert {"passwort1234", "sommer2026!", "qwertzuiop"} <= listed


def test_the_keystore_refuses_a_weak_password(runtime: Runtime) -> None:
    create_admin(runtime, ADMIN, ONE_TIME, secret=None)
    with runtime.keystore.session() as session:
        admins = runtime.keystore.admins(session)
        admin = admins.get(ADMIN)
        with pytest.raises(ValueError, match="common password"):
            admins.set_password(admin, "Passwort1234!")
        with pytest.raises(ValueError, match="email address"):
            admins.set_password(admin, "chef is my name")
        assert admins.authenticate(ADMIN, ONE_TIME).ok


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sommer2026!!", "common password"),
        ("chef@bank.example", "email address"),
        ("short", "at least 12 characters"),
    ],
)
def test_enrollment_refuses_a_weak_password_and_keeps_nothing(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, password: str, message: str
) -> None:
    _, secret = enrollment(client, runtime)
    response = confirm_enrollment(client, secret, clock, password)
    assert response.status_code == 400
    assert message in page_text(response)
    with runtime.keystore.session() as session:
        admins = runtime.keystore.admins(session)
        stored = admins.get(ADMIN)
        assert stored.totp_secret is None and stored.last_totp_step is None
        assert admins.authenticate(ADMIN, ONE_TIME).ok
