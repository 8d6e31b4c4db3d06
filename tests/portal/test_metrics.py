"""The portal's counters: each outcome of a login, an opening and a reply is counted once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from tests.portal.conftest import first_login, login
from tests.portal.helpers import build_mail, csrf_token, seal
from tests.portal.resetflow import answer, reset_stage
from tests.portal.test_reader import _flip, read
from tests.portal.test_reply import compose, send
from webcrypt.runtime import Runtime

COUNTERS = (
    "webcrypt_portal_logins_total",
    "webcrypt_portal_opens_total",
    "webcrypt_portal_replies_total",
)


def samples() -> dict[tuple[str, str], float]:
    """Return every sample of the portal's counters: (name, outcome) -> value."""
    found: dict[tuple[str, str], float] = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name in COUNTERS:
                found[(sample.name.split("_")[2], sample.labels["outcome"])] = sample.value
    return found


def counted(action: Callable[[], object]) -> dict[tuple[str, str], float]:
    """Run `action` and return which counters it changed, by how much."""
    before = samples()
    action()
    after = samples()
    return {
        key: value - before.get(key, 0.0)
        for key, value in after.items()
        if value != before.get(key, 0.0)
    }


def test_password_logins(client: FlaskClient, account: str) -> None:
    assert counted(lambda: login(client, password="not the password")) == {("logins", "failed"): 1}
    assert counted(lambda: login(client)) == {("logins", "ok"): 1}


def test_pin_login_and_setup(client: FlaskClient, runtime: Runtime) -> None:
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    page = client.get("/login/pin")
    wrong = {"csrf_token": csrf_token(page.data), "email": sealed.recipient, "pin": "0000 0000"}
    assert counted(lambda: client.post("/login/pin", data=wrong)) == {("logins", "failed"): 1}
    # The PIN login counts; choosing the password after it is the same login.
    changes = counted(lambda: first_login(client, str(sealed.pin), envelope=sealed.armored))
    assert changes == {("logins", "ok"): 1, ("opens", "ok"): 1}


def test_switching_forms_counts_nothing(client: FlaskClient) -> None:
    page = client.get("/login")
    data = {"csrf_token": csrf_token(page.data), "email": "a@example.com", "use_pin": "1"}
    assert counted(lambda: client.post("/login", data=data)) == {}


def test_forgotten_password(app: Flask, account: str, tmp_path: Path) -> None:
    client, question = reset_stage(app, tmp_path)
    wrong = lambda: answer(client, question, "wrong")  # noqa: E731
    assert counted(wrong) == {("logins", "failed"): 1}
    right = lambda: answer(client, question, "Bello")  # noqa: E731
    assert counted(right) == {("logins", "ok"): 1}


def test_rate_limited_logins(app: Flask, account: str) -> None:
    app.config["RATELIMIT_LOGIN"] = "1 per minute"
    client = app.test_client()
    login(client, password="wrong password")
    assert counted(lambda: login(client)) == {("logins", "rate_limited"): 1}


def test_openings_by_outcome(logged_in: FlaskClient, runtime: Runtime, clock) -> None:
    sealed = seal(runtime, build_mail())
    assert counted(lambda: read(logged_in, sealed.armored)) == {("opens", "ok"): 1}
    assert counted(lambda: read(logged_in, "garbage")) == {("opens", "format"): 1}
    other = seal(runtime, build_mail(), to="andere@example.com")
    assert counted(lambda: read(logged_in, other.armored)) == {("opens", "recipient"): 1}
    big = build_mail(attachments=[("data.bin", "application/octet-stream", b"x" * 20000)])
    damaged = _flip(seal(runtime, big).armored, 0.6)
    assert counted(lambda: read(logged_in, damaged)) == {("opens", "damaged"): 1}
    withdrawn = seal(runtime, build_mail())
    with runtime.keystore.session() as session:
        runtime.keystore.ledger(session).revoke(withdrawn.message_id, by="berater@bank.example")
    assert counted(lambda: read(logged_in, withdrawn.armored)) == {("opens", "withdrawn"): 1}
    clock.advance(days=31)
    login(logged_in)
    assert counted(lambda: read(logged_in, sealed.armored)) == {("opens", "expired"): 1}


def test_replies_sent_and_failed(logged_in: FlaskClient, runtime: Runtime, tmp_path: Path) -> None:
    sealed = seal(runtime, build_mail())
    page = compose(logged_in, sealed.armored)
    assert counted(lambda: send(logged_in, page, sealed.armored, body="")) == {
        ("replies", "failed"): 1
    }
    assert counted(lambda: send(logged_in, page, sealed.armored, body="Danke")) == {
        ("replies", "sent"): 1
    }
    write = logged_in.get("/write")
    data = {"csrf_token": csrf_token(write.data), "to": "berater@bank.example", "subject": "Frage"}
    assert counted(lambda: logged_in.post("/write", data={**data, "body": ""})) == {
        ("replies", "failed"): 1
    }
    assert counted(lambda: logged_in.post("/write", data={**data, "body": "Hallo"})) == {
        ("replies", "sent"): 1
    }


@pytest.mark.parametrize("endpoint", ["/reply/send", "/write"])
def test_rate_limited_replies(app: Flask, logged_in: FlaskClient, endpoint: str) -> None:
    app.config["RATELIMIT_SEND"] = "1 per minute"
    token = csrf_token(logged_in.get("/").data)
    logged_in.post(endpoint, data={"csrf_token": token, "body": "x"})
    again = counted(lambda: logged_in.post(endpoint, data={"csrf_token": token, "body": "x"}))
    assert again == {("replies", "rate_limited"): 1}
