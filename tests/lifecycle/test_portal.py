"""What the recipient sees in the portal after crypto-shredding and after withdrawal."""

from __future__ import annotations

from typing import Any

from tests.lifecycle.conftest import CUSTOMER, FakeClock, Sealed, seal_message
from tests.portal.conftest import first_login, login
from tests.portal.helpers import csrf_token
from webcrypt.lifecycle.jobs import run_housekeeping
from webcrypt.runtime import Runtime


def _read(client: Any, sealed: Sealed) -> Any:
    token = csrf_token(client.get("/").data)
    return client.post("/read", data={"csrf_token": token, "envelope": sealed.armored})


def test_shredded_message_is_expired_in_the_portal(
    runtime: Runtime, clock: FakeClock, portal_client: Any
) -> None:
    sealed = seal_message(runtime, "m1@bank.example")
    assert sealed.pin
    first_login(portal_client, sealed.pin, address=CUSTOMER)
    opened = _read(portal_client, sealed)
    assert opened.status_code == 200 and b"Strictly confidential" in opened.data

    clock.advance(days=31)
    assert run_housekeeping(runtime).keys_rotated == 1
    clock.advance(days=1)
    assert run_housekeeping(runtime).key_versions_destroyed == 1
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).key(sealed.recipient_id, 1) is None

    assert login(portal_client, address=CUSTOMER).status_code == 302  # the session timed out
    page = _read(portal_client, sealed)
    assert page.status_code == 410
    assert b"expired" in page.data and b"damaged" not in page.data
    assert b"Strictly confidential" not in page.data


def test_withdrawn_message_says_so(runtime: Runtime, portal_client: Any) -> None:
    sealed = seal_message(runtime, "m1@bank.example")
    assert sealed.pin
    first_login(portal_client, sealed.pin, address=CUSTOMER)
    with runtime.keystore.session() as session:
        runtime.keystore.ledger(session).revoke("m1@bank.example", by="berater@bank.example")
    page = _read(portal_client, sealed)
    assert page.status_code == 410 and b"withdrawn" in page.data
    assert b"Strictly confidential" not in page.data
