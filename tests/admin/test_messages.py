"""Withdrawing a message by its id: the portal refuses to open it afterwards."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.admin.conftest import ADMIN, audit_actions, post_form, text_of
from tests.portal.conftest import first_login
from tests.portal.helpers import CUSTOMER, build_mail, csrf_token, seal, submit
from webcrypt.runtime import Runtime


def test_withdraw_a_message(
    admin_client: FlaskClient, runtime: Runtime, client: FlaskClient
) -> None:
    sealed = seal(runtime, build_mail(body="Nur für Sie"))
    other = seal(runtime, build_mail(body="Noch eine Nachricht"))
    # First step: look the message up (angle brackets as in a Message-ID header are fine).
    lookup = post_form(
        admin_client, "/admin/messages/withdraw", {"message_id": f"<{sealed.message_id}>"}
    )
    assert lookup.status_code == 200
    text = text_of(lookup)
    assert CUSTOMER in text and "cannot be undone" in text
    with runtime.keystore.session() as session:
        assert runtime.keystore.ledger(session).find(sealed.message_id)[0].revoked_at is None
    # Second step: confirm.
    response = submit(
        admin_client,
        "/admin/messages/withdraw",
        lookup.data,
        message_id=sealed.message_id,
        confirm="yes",
    )
    assert response.status_code == 302
    assert "withdrawn for 1 recipient" in text_of(admin_client.get(response.headers["Location"]))
    assert ("message.withdraw", ADMIN, sealed.message_id) in audit_actions(runtime)
    with runtime.keystore.session() as session:
        entry = runtime.keystore.ledger(session).find(sealed.message_id)[0]
        assert entry.revoked_at is not None and entry.revoked_by == ADMIN
    # The portal refuses the withdrawn message and still opens the other one.
    first_login(client, sealed.pin)
    refused = client.post(
        "/read", data={"csrf_token": csrf_token(client.get("/").data), "envelope": sealed.armored}
    )
    assert refused.status_code >= 400
    assert "withdrawn" in text_of(refused).lower()
    shown = client.post(
        "/read", data={"csrf_token": csrf_token(client.get("/").data), "envelope": other.armored}
    )
    assert "Noch eine Nachricht" in shown.get_data(as_text=True)


def test_unknown_message_id(admin_client: FlaskClient) -> None:
    response = post_form(
        admin_client, "/admin/messages/withdraw", {"message_id": "nothing@bank.example"}
    )
    assert response.status_code == 404
    assert "No sealed message with this ID" in text_of(response)


def test_message_id_is_required(admin_client: FlaskClient) -> None:
    response = post_form(admin_client, "/admin/messages/withdraw", {"message_id": ""})
    assert response.status_code == 400
    assert "This field is required" in text_of(response)


def test_malformed_message_id_says_what_is_expected(admin_client: FlaskClient) -> None:
    for value in ("two words@bank.example", "<a@b> <c@d>"):
        response = post_form(admin_client, "/admin/messages/withdraw", {"message_id": value})
        assert response.status_code == 400
        assert "A Message-ID has no spaces" in text_of(response)


def test_withdraw_link_from_the_detail_page(admin_client: FlaskClient, runtime: Runtime) -> None:
    sealed = seal(runtime, build_mail())
    with runtime.keystore.session() as session:
        recipient_id = runtime.keystore.recipients(session).get(CUSTOMER).id
    page = admin_client.get(f"/admin/users/{recipient_id}").get_data(as_text=True)
    assert f"/admin/messages/withdraw?message_id={sealed.message_id}" in page
    prefilled = admin_client.get(f"/admin/messages/withdraw?message_id={sealed.message_id}")
    assert f'value="{sealed.message_id}"' in prefilled.get_data(as_text=True)
