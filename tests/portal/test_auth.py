"""Logging in: PIN and password, first-login setup, back-off, sessions (resets: test_reset)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.portal.conftest import first_login, login, update_settings
from tests.portal.helpers import CUSTOMER, build_mail, change_password, csrf_token, seal


def _normalized(page: bytes, *values: str) -> str:
    """Remove what legitimately differs between two answers: tokens and echoed input."""
    text = page.decode()
    text = re.sub(r'name="(?:[a-z]+-)?csrf_token"[^>]*>', "", text)
    text = re.sub(r'(<p class="phrase-text"><strong>)[^<]*(</strong>)', r"\1PHRASE\2", text)
    for value in values:
        text = text.replace(value, "ADDRESS")
    return text


def test_labels_are_visible(client: FlaskClient, runtime) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    page = client.post("/login", data={"csrf_token": csrf_token(page), "email": CUSTOMER}).get_data(
        as_text=True
    )
    assert '<label for="password">Password</label>' in page
    page = client.get("/login/pin").get_data(as_text=True)
    assert '<label for="pin">PIN</label>' in page
    sealed = seal(runtime, build_mail())
    response = client.post(
        "/login/pin",
        data={"csrf_token": csrf_token(page), "email": CUSTOMER, "pin": sealed.pin},
    )
    page = response.get_data(as_text=True)
    for label in ("New password", "Answer", "Security phrase"):
        assert f">{label}</label>" in page
    assert "<legend>Security question</legend>" in page


def test_first_login_sets_password_and_security_question(client: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    response = first_login(client, sealed.pin)
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        assert recipient.password_hash and recipient.pin_hash is None
        assert recipient.security_question == "first_pet"
        assert runtime.keystore.recipients(session).security_phrase(recipient) == "Blue tractor"
    # The PIN is used up; the password works.
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    assert login(client).status_code == 302


def test_setup_needs_the_pin_step(client: FlaskClient) -> None:
    page = client.get("/setup")
    assert b'name="pin"' in page.data


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short1!", "at least 10"), ("password123", "too common"), ("kunde-2026-xyz", "email")],
)
def test_weak_passwords_are_refused(
    client: FlaskClient, runtime, password: str, problem: str
) -> None:
    sealed = seal(runtime, build_mail())
    page = client.get("/login/pin")
    response = client.post(
        "/login/pin",
        data={"csrf_token": csrf_token(page.data), "email": CUSTOMER, "pin": sealed.pin},
    )
    response = client.post(
        "/setup",
        data={
            "csrf_token": csrf_token(response.data),
            "new_password": password,
            "confirm": password,
            "question": "first_pet",
            "answer": "Bello",
        },
    )
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)


def test_wrong_pin_is_refused(client: FlaskClient, runtime) -> None:
    seal(runtime, build_mail())
    page = client.get("/login/pin")
    response = client.post(
        "/login/pin",
        data={"csrf_token": csrf_token(page.data), "email": CUSTOMER, "pin": "0000 0000"},
    )
    assert response.status_code == 401
    assert client.get("/profile").status_code == 200  # the login page, not the profile
    assert b'action="/login"' in client.get("/profile").data


def test_same_answer_for_unknown_and_known_addresses(client: FlaskClient, account: str) -> None:
    known = login(client, address=account, password="wrong password 1")
    unknown = login(client, address="nobody@example.org", password="wrong password 1")
    assert known.status_code == unknown.status_code == 401
    assert _normalized(known.data, account) == _normalized(unknown.data, "nobody@example.org")


def test_same_answer_for_pin_stage_account_and_unknown(client: FlaskClient, runtime) -> None:
    seal(runtime, build_mail(), to="neu@example.com")
    pending = login(client, address="neu@example.com", password="some password")
    unknown = login(client, address="nobody@example.org", password="some password")
    assert pending.status_code == unknown.status_code == 401
    assert _normalized(pending.data, "neu@example.com") == _normalized(
        unknown.data, "nobody@example.org"
    )


def test_unknown_addresses_cost_the_same_hashing_work(
    client: FlaskClient, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keystore.passwords import Hasher

    calls: list[str] = []
    original_verify, original_waste = Hasher.verify, Hasher.waste_time

    def verify(self, secret, stored):  # type: ignore[no-untyped-def]
        calls.append("verify")
        return original_verify(self, secret, stored)

    def waste(self, secret):  # type: ignore[no-untyped-def]
        calls.append("waste")
        return original_waste(self, secret)

    monkeypatch.setattr(Hasher, "verify", verify)
    monkeypatch.setattr(Hasher, "waste_time", waste)
    login(client, address=account, password="wrong password 1")
    known = len(calls)
    calls.clear()
    login(client, address="nobody@example.org", password="wrong password 1")
    assert known == len(calls) == 1


def test_back_off_after_repeated_failures(client: FlaskClient, account: str, clock) -> None:
    for _ in range(5):
        assert login(client, password="wrong password 1").status_code == 401
    # Waiting: from here even the right password is refused for now.
    assert login(client).status_code == 401
    clock.advance(minutes=16)
    assert login(client).status_code == 302


def test_back_off_threshold_is_an_admin_setting(client: FlaskClient, account: str, runtime) -> None:
    update_settings(runtime, lockout_threshold=3)
    for _ in range(3):
        login(client, password="wrong password 1")
    assert login(client).status_code == 401


def test_logout_ends_the_session(logged_in: FlaskClient) -> None:
    assert b"Change password" in logged_in.get("/profile").data
    token = csrf_token(logged_in.get("/profile").data)
    assert logged_in.post("/logout", data={"csrf_token": token}).status_code == 302
    assert b"Change password" not in logged_in.get("/profile").data


def test_idle_timeout(logged_in: FlaskClient, clock) -> None:
    clock.advance(minutes=29)
    assert b"Change password" in logged_in.get("/profile").data
    clock.advance(minutes=29)
    assert b"Change password" in logged_in.get("/profile").data
    clock.advance(minutes=31)
    page = logged_in.get("/profile")
    assert b"Change password" not in page.data
    assert b"Your session has ended" in page.data


def test_idle_timeout_is_an_admin_setting(logged_in: FlaskClient, clock, runtime) -> None:
    update_settings(runtime, session_idle_minutes=5)
    clock.advance(minutes=6)
    assert b"Change password" not in logged_in.get("/profile").data


def test_absolute_session_lifetime(logged_in: FlaskClient, clock) -> None:
    for _ in range(11 * 3):
        clock.advance(minutes=20)
        assert b"Change password" in logged_in.get("/profile").data
    clock.advance(minutes=61)
    assert b"Change password" not in logged_in.get("/profile").data


def test_login_starts_a_new_session(client: FlaskClient, account: str) -> None:
    page = client.get("/login")
    before = csrf_token(page.data)
    login(client)
    after = csrf_token(client.get("/profile").data)
    assert before != after


def test_session_cookie_flags(client: FlaskClient, account: str) -> None:
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback


def test_password_change_ends_other_sessions(app, account: str) -> None:
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    assert change_password(first, "my brand new secret 42").status_code == 302
    assert b"Change password" in first.get("/profile").data
    assert b"Change password" not in second.get("/profile").data


def test_deactivated_account_loses_its_session(logged_in: FlaskClient, runtime) -> None:
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipients.set_status(recipients.get(CUSTOMER), "deactivated")
    assert b"Change password" not in logged_in.get("/profile").data
    refused = login(logged_in)  # the right password: told that the account is deactivated
    assert refused.status_code == 403 and b"deactivated" in refused.data
