"""Logins that cannot be turned against the customer: back-off per address and client IP,
PINs that expire and work once, security answers that are not trivial, an audit trail."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.portal.conftest import first_login, login, update_settings
from tests.portal.helpers import CUSTOMER, PASSWORD, build_mail, csrf_token, profile_form, seal

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
CUSTOMER_IP = {"REMOTE_ADDR": "198.51.100.7"}


def login_from(client: FlaskClient, environ: dict[str, str], password: str = PASSWORD) -> Any:
    page = client.get("/login", environ_base=environ)
    data = {"csrf_token": csrf_token(page.data), "email": CUSTOMER, "password": password}
    return client.post("/login", data=data, environ_base=environ)


def pin_login(client: FlaskClient, pin: str, address: str = CUSTOMER) -> Any:
    page = client.get("/login/pin")
    data = {"csrf_token": csrf_token(page.data), "email": address, "pin": pin}
    return client.post("/login/pin", data=data)


def audit(runtime: Any, action: str) -> list[Any]:
    with runtime.keystore.session() as session:
        return runtime.keystore.audit(session).search(action=action)


def test_failures_from_elsewhere_do_not_lock_the_customer_out(
    app: Flask, account: str, runtime: Any
) -> None:
    attacker, customer = app.test_client(), app.test_client()
    for _ in range(20):
        login_from(attacker, ATTACKER, "wrong password 1")
    assert login_from(attacker, ATTACKER).status_code == 401  # that pair waits
    assert login_from(customer, CUSTOMER_IP).status_code == 302


def test_back_off_doubles_and_then_lets_the_pair_try_again(
    app: Flask, account: str, clock: Any, runtime: Any
) -> None:
    update_settings(runtime, lockout_threshold=3, lockout_minutes=5)
    client = app.test_client()
    for _ in range(3):
        assert login_from(client, ATTACKER, "wrong password 1").status_code == 401
    refused = login_from(client, ATTACKER)
    assert refused.status_code == 401
    assert "please wait 1 second" in refused.get_data(as_text=True)
    clock.advance(seconds=1)
    assert login_from(client, ATTACKER, "wrong password 1").status_code == 401
    assert "please wait 2 seconds" in login_from(client, ATTACKER).get_data(as_text=True)
    clock.advance(seconds=2)
    assert login_from(client, ATTACKER).status_code == 302


def test_unknown_addresses_are_slowed_down_alike(app: Flask, account: str, runtime: Any) -> None:
    update_settings(runtime, lockout_threshold=2)
    pages = {}
    for address in (CUSTOMER, "nobody@example.org"):
        client = app.test_client()
        for _ in range(3):
            page = client.get("/login", environ_base=ATTACKER)
            data = {"csrf_token": csrf_token(page.data), "email": address, "password": "x" * 12}
            response = client.post("/login", data=data, environ_base=ATTACKER)
        text = response.get_data(as_text=True).replace(address, "ADDRESS")
        # The phrase differs by address (a keyed decoy for unknown ones) and only by it.
        text = re.sub(r'(<p class="phrase-text"><strong>)[^<]*(</strong>)', r"\1PHRASE\2", text)
        pages[address] = text.split('name="csrf_token"')[0]
    assert "please wait" in pages[CUSTOMER]
    assert pages[CUSTOMER] == pages["nobody@example.org"]


def test_failed_logins_and_wrong_pins_are_audited_without_secrets(
    client: FlaskClient, account: str, runtime: Any
) -> None:
    login_from(client, ATTACKER, "wrong password 1")
    pin_login(client, "1234 5678")
    (failed,) = audit(runtime, "portal.login_failed")
    assert (failed.actor, failed.ip, failed.detail) == (CUSTOMER, "203.0.113.9", "bad")
    (pin,) = audit(runtime, "portal.pin_failed")
    assert pin.target == CUSTOMER
    with runtime.keystore.session() as session:
        for event in runtime.keystore.audit(session).search():
            text = f"{event.actor} {event.target} {event.detail}"
            assert "wrong password 1" not in text and "12345678" not in text


def test_a_pin_expires(client: FlaskClient, runtime: Any, clock: Any) -> None:
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    clock.advance(days=14)
    response = pin_login(client, sealed.pin)
    assert response.status_code == 401
    assert "This PIN has expired" in response.get_data(as_text=True)
    assert [e.target for e in audit(runtime, "portal.pin_expired")] == [CUSTOMER]


def test_pin_validity_is_a_setting(client: FlaskClient, runtime: Any, clock: Any) -> None:
    update_settings(runtime, pin_valid_days=30)
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    clock.advance(days=29)
    assert pin_login(client, sealed.pin).status_code == 200


def test_a_pin_works_once(client: FlaskClient, runtime: Any) -> None:
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    assert first_login(client, sealed.pin).status_code == 302
    other = client.application.test_client()
    assert pin_login(other, sealed.pin).status_code == 401
    assert b"Change password" not in other.get("/profile").data


def _setup_with(client: FlaskClient, runtime: Any, answer: str, question: str = "first_pet") -> Any:
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    response = pin_login(client, sealed.pin)
    data = {
        "csrf_token": csrf_token(response.data),
        "new_password": PASSWORD,
        "confirm": PASSWORD,
        "question": question,
        "answer": answer,
        "phrase": "Green kettle on the balcony",
    }
    return client.post("/setup", data=data)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Rex", "at least 4 characters"),
        ("  R  e x ", "at least 4 characters"),
        ("KUNDE@example.com", "not be your email address"),
        ("kunde", "not be your email address"),
        ("What was the name of your first pet?", "not be the question"),
        ("wie hieß ihr erstes haustier?", "not be the question"),
    ],
)
def test_weak_answers_are_refused_at_setup(
    client: FlaskClient, runtime: Any, answer: str, problem: str
) -> None:
    response = _setup_with(client, runtime, answer)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        assert recipient.password_hash is None and recipient.security_answer_hash is None


def test_weak_answers_are_refused_in_the_profile(logged_in: FlaskClient, runtime: Any) -> None:
    data = profile_form(logged_in, "question", question="first_school", answer="abc")
    response = logged_in.post("/profile/question", data=data)
    assert response.status_code == 400
    assert "at least 4 characters" in response.get_data(as_text=True)
    response = logged_in.post("/profile/question", data={**data, "question-answer": "Schule"})
    assert response.status_code == 302


def test_a_good_answer_is_accepted_and_stored_normalized(client: FlaskClient, runtime: Any) -> None:
    assert _setup_with(client, runtime, "  Mein   HUND ").status_code == 302
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipient = recipients.get(CUSTOMER)
        assert recipients.check_reset_answer(recipient, "mein hund").outcome == "ok"


def test_login_from_the_same_place_after_a_password_login(
    client: FlaskClient, account: str
) -> None:
    """A successful login forgets that pair's earlier failures."""
    for _ in range(4):
        login(client, password="wrong password 1")
    assert login(client).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    assert login(client, password="wrong password 1").status_code == 401
    assert login(client).status_code == 302
