"""Password reset against a real relay: mailed first, saved after, no write lock meanwhile."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.admin.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    SECRETS,
    Account,
    account_id,
    audit_actions,
    create_admin,
    log_in,
    pin_in,
    post_form,
    text_of,
)
from tests.portal.conftest import TEST_CONFIG, first_login, guarded_runtime, login
from tests.portal.helpers import CUSTOMER, FakeClock, build_mail, csrf_token, seal
from tests.portal.writelock import OtherWriter, shorten_busy_timeout
from tests.support.components import free_port
from tests.support.smtp import RecordingSink
from webcrypt.runtime import Runtime

WAIT = 30  # seconds; only reached when something is wrong
RESET = "recipient.reset_password"


@dataclass
class Portal:
    """A portal whose PIN mails go to a given relay, a customer with a password, an admin."""

    runtime: Runtime
    app: Flask
    admin: FlaskClient
    recipient_id: int

    def customer_logs_in(self, password: str | None = None) -> int:
        """Log the customer in from a fresh browser; return the status code."""
        extra = {"password": password} if password else {}
        return int(login(self.app.test_client(), **extra).status_code)

    def pin_works(self, pin: str) -> bool:
        """Tell whether `pin` logs the customer in."""
        with self.runtime.keystore.session() as session:
            return bool(
                self.runtime.keystore.recipients(session).authenticate_pin(CUSTOMER, pin).ok
            )


@contextmanager
def portal_relaying_to(tmp_path: Path, clock: FakeClock, relay_url: str) -> Iterator[Portal]:
    """Build a portal that sends its mail to `relay_url`."""
    from portal import create_app

    with guarded_runtime(tmp_path, clock, WEBCRYPT_PORTAL_RELAY=relay_url) as runtime:
        app = create_app(runtime, dict(TEST_CONFIG))
        create_admin(runtime, ADMIN, ADMIN_PASSWORD, secret=SECRETS[ADMIN])
        sealed = seal(runtime, build_mail())
        first_login(app.test_client(), sealed.pin)
        admin = log_in(app.test_client(), Account(ADMIN, ADMIN_PASSWORD, SECRETS[ADMIN]), clock)
        yield Portal(runtime, app, admin, account_id(runtime))


class ResetInThread:
    """Confirm a reset in another thread, so the test can act while the relay holds it."""

    def __init__(self, portal: Portal) -> None:
        url = f"/admin/users/{portal.recipient_id}/reset"
        token = csrf_token(portal.admin.get(url).data)
        self.outcome: list[Any] = []

        def post() -> None:
            try:
                self.outcome.append(
                    portal.admin.post(url, data={"csrf_token": token, "confirm": "yes"})
                )
            except BaseException as exc:  # handed to the test's thread
                self.outcome.append(exc)

        self.thread = threading.Thread(target=post)
        self.thread.start()

    def finish(self) -> Any:
        """Wait for the response and return it."""
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the reset did not finish"
        if isinstance(self.outcome[0], BaseException):
            raise self.outcome[0]
        return self.outcome[0]


@contextmanager
def stalled_portal(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[RecordingSink, Portal]]:
    """A portal whose relay, a recording sink, holds each mail until told to accept."""
    with RecordingSink() as sink, portal_relaying_to(tmp_path, clock, sink.url) as portal:
        sink.stall(WAIT)
        yield sink, portal


def reset_audited(portal: Portal) -> bool:
    """Tell whether the audit log records a password reset."""
    return RESET in [action for action, _, _ in audit_actions(portal.runtime)]


def test_reset_is_undone_when_the_mail_cannot_go_out(tmp_path: Path, clock: FakeClock) -> None:
    closed = f"smtp://127.0.0.1:{free_port()}"
    with portal_relaying_to(tmp_path, clock, closed) as portal:
        response = post_form(
            portal.admin, f"/admin/users/{portal.recipient_id}/reset", {"confirm": "yes"}
        )
        page = portal.admin.get(response.headers["Location"])
        assert "could not be sent, so nothing was changed" in text_of(page)
        assert portal.customer_logs_in() == 302  # the password still works
        assert not reset_audited(portal)


def test_no_write_lock_is_held_while_the_pin_mail_goes_out(
    tmp_path: Path, clock: FakeClock
) -> None:
    with stalled_portal(tmp_path, clock) as (sink, portal):
        other = OtherWriter(portal.runtime)
        reset = ResetInThread(portal)
        try:
            sink.wait_for_attempt(WAIT)
            failure = other.write()  # another process's transaction, while the relay talks
        finally:
            sink.accept()
            response = reset.finish()
            other.close()
        assert failure is None, failure
        page = portal.admin.get(response.headers["Location"])
        assert "Reset password: done for" in text_of(page)
        pin = pin_in(sink.wait_for(1)[0].data)
        assert portal.pin_works(pin)
        assert portal.customer_logs_in() == 401  # the old password is gone
        assert (RESET, ADMIN, CUSTOMER) in audit_actions(portal.runtime)


def test_mailed_pin_is_void_when_the_reset_cannot_be_saved(
    tmp_path: Path, clock: FakeClock
) -> None:
    with stalled_portal(tmp_path, clock) as (sink, portal):
        shorten_busy_timeout(portal.runtime.keystore)
        reset = ResetInThread(portal)
        blocker = sqlite3.connect(str(portal.runtime.keystore.url.database), isolation_level=None)
        try:
            sink.wait_for_attempt(WAIT)
            blocker.execute("BEGIN IMMEDIATE")  # the database stays locked while it saves
            sink.accept()
            response = reset.finish()
        finally:
            sink.accept()
            blocker.close()  # rolls back, frees the lock
        page = text_of(portal.admin.get(response.headers["Location"]))
        assert "the PIN in that mail is void and the old password still works" in page
        pin = pin_in(sink.wait_for(1)[0].data)
        assert not portal.pin_works(pin)
        assert portal.customer_logs_in() == 302
        assert not reset_audited(portal)


def test_mailed_pin_is_void_when_the_account_was_deleted_meanwhile(
    tmp_path: Path, clock: FakeClock
) -> None:
    with stalled_portal(tmp_path, clock) as (sink, portal):
        reset = ResetInThread(portal)
        keystore = portal.runtime.keystore
        try:
            sink.wait_for_attempt(WAIT)
            with keystore.session() as session:
                accounts = keystore.recipients(session)
                accounts.delete(accounts.get(CUSTOMER))
        finally:
            sink.accept()
            response = reset.finish()
        assert response.headers["Location"].endswith("/admin/users")
        page = text_of(portal.admin.get(response.headers["Location"]))
        assert f"{CUSTOMER} was deleted while the mail with the new PIN went out" in page
        assert "the PIN in that mail is void" in page
        assert not reset_audited(portal)
