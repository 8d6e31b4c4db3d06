"""Fixtures for the portal: a runtime on a fresh SQLite keystore, the app, a logged-in client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.portal.helpers import CUSTOMER, PASSWORD, FakeClock, build_mail, csrf_token, seal
from tests.portal.sessionguard import SessionGuard
from tests.support.apps import portal_app
from tests.support.runtime import build_runtime, folder_environ
from webcrypt.runtime import Runtime

PUBLIC_URL = "http://127.0.0.1:8080"


def make_runtime(tmp_path: Path, clock: Any, **environ: str) -> Runtime:
    """Build a runtime on a migrated SQLite keystore under `tmp_path` (fresh on first use)."""
    (tmp_path / "outbox").mkdir(exist_ok=True)
    settings = {**folder_environ(tmp_path), "WEBCRYPT_PORTAL_PUBLIC_URL": PUBLIC_URL, **environ}
    # Cheap argon2 parameters (build_runtime's default): the tests log in often.
    return build_runtime(settings, clock=clock, settings_ttl=0)


@contextmanager
def guarded_runtime(tmp_path: Path, clock: Any, **environ: str) -> Iterator[Runtime]:
    """Yield `make_runtime(...)` watched by a SessionGuard; close both afterwards."""
    built = make_runtime(tmp_path, clock, **environ)
    guard = SessionGuard(built)
    try:
        yield built
    finally:
        guard.close()
        built.close()


TEST_CONFIG = {
    "SECRET_KEY": "test-secret",
    "TESTING": True,
    "RATELIMIT_LOGIN": "1000 per minute",
    "RATELIMIT_OPEN": "1000 per minute",
    "RATELIMIT_SEND": "1000 per minute",
}


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test can move."""
    return FakeClock()


@pytest.fixture
def runtime(tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    """A runtime on a fresh keystore whose relay writes to an outbox directory."""
    with guarded_runtime(tmp_path, clock) as built:
        yield built


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    """The portal application."""
    return portal_app(runtime, TEST_CONFIG)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


def update_settings(runtime: Runtime, **changes: Any) -> None:
    """Change admin settings (applied at once: the test runtime caches nothing)."""
    with runtime.keystore.session() as session:
        runtime.keystore.settings(session).update(changes, actor="test")


def first_login(
    client: FlaskClient, pin: str, *, address: str = CUSTOMER, envelope: str = ""
) -> Any:
    """Log in with the PIN and set the password; return the final response."""
    page = client.get("/login/pin")
    data = {"csrf_token": csrf_token(page.data), "email": address, "pin": pin}
    if envelope:
        data["envelope"] = envelope
    response = client.post("/login/pin", data=data)
    assert response.status_code == 200, response.data[:2000]
    data = {
        "csrf_token": csrf_token(response.data),
        "new_password": PASSWORD,
        "confirm": PASSWORD,
        "question": "first_pet",
        "answer": "Bello",
        "phrase": "Blue tractor",
    }
    if envelope:
        data["envelope"] = envelope
    return client.post("/setup", data=data)


def login(
    client: FlaskClient, *, address: str = CUSTOMER, password: str = PASSWORD, envelope: str = ""
) -> Any:
    """Log in with the password; return the response."""
    page = client.get("/login")
    data = {"csrf_token": csrf_token(page.data), "email": address, "password": password}
    if envelope:
        data["envelope"] = envelope
    return client.post("/login", data=data)


@pytest.fixture
def account(runtime: Runtime, client: FlaskClient) -> str:
    """A recipient with a password, logged out; returns the address."""
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    first_login(client, sealed.pin)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    return CUSTOMER


@pytest.fixture
def logged_in(account: str, client: FlaskClient) -> FlaskClient:
    """A client logged in as the recipient."""
    response = login(client)
    assert response.status_code == 302, response.data[:2000]
    return client
