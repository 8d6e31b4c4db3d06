"""The secure mailbox in the admin area: usage and delivery method per account, totals."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from keystore.mailbox import new_entry_id
from tests.admin.conftest import account_id, audit_actions, text_of
from tests.portal.helpers import ADVISER, CUSTOMER, build_mail, csrf_token, seal
from webcrypt.runtime import Runtime


def stored(runtime: Runtime, size: int) -> int:
    sealed = seal(runtime, build_mail())
    with runtime.keystore.session() as session:
        runtime.keystore.mailbox(session).store(
            sealed.recipient_id,
            new_entry_id(),
            message_id=sealed.message_id,
            key_version=1,
            envelope=b"x" * size,
            summary=b"s",
            expires_at=runtime.clock() + timedelta(days=30),
        )
    return sealed.recipient_id


def test_user_page_shows_usage_and_sets_the_method(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    customer = stored(runtime, 3 * 1024 * 1024)
    page = admin_client.get(f"/admin/users/{customer}")
    text = text_of(page)
    assert "Secure mailbox 1 messages (1 unread), 3.0 MB of 100 MB used" in text
    assert "Delivery by the rules" in text
    token = csrf_token(page.data)
    url = f"/admin/users/{customer}/delivery"
    assert admin_client.post(url, data={"method": "mailbox"}).status_code == 400  # no token
    assert admin_client.post(url, data={"csrf_token": token, "method": "fax"}).status_code == 400
    response = admin_client.post(url, data={"csrf_token": token, "method": "mailbox"})
    assert response.status_code == 302
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).delivery_method == "mailbox"
    assert "Delivery mailbox" in text_of(admin_client.get(f"/admin/users/{customer}"))
    assert ("recipient.delivery_method", CUSTOMER) in [(a, t) for a, _, t in audit_actions(runtime)]
    admin_client.post(url, data={"csrf_token": token, "method": ""})
    assert account_id(runtime) == customer
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).delivery_method is None


def test_dashboard_and_metrics_show_the_totals(
    admin_client: FlaskClient, client: FlaskClient, runtime: Runtime
) -> None:
    stored(runtime, 2 * 1024 * 1024)
    text = text_of(admin_client.get("/admin/"))
    assert "Messages stored: 1 (unread: 1)" in text and "Storage used: 2.0 MB" in text
    body = client.get("/metrics").get_data(as_text=True)
    assert "webcrypt_mailbox_messages 1.0" in body
    assert "webcrypt_mailbox_bytes 2.097152e+06" in body
    assert ADVISER not in body
