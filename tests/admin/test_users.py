"""User management: search, detail, and each confirmed, audited action."""

from __future__ import annotations

import dataclasses
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.admin.conftest import (
    ADMIN,
    account_id,
    audit_actions,
    pin_in,
    post_form,
    text_of,
    without_adviser,
)
from tests.portal.conftest import first_login, login, update_settings
from tests.portal.helpers import ADVISER, CUSTOMER, build_mail, csrf_token, seal
from tests.support.smsgateway import SmsGatewayDouble
from webcrypt.config.loader import SmsSection
from webcrypt.runtime import Runtime


def outbox(runtime: Runtime) -> list[bytes]:
    folder = Path(str(runtime.config.filter.relay).removeprefix("outbox:"))
    return [path.read_bytes() for path in sorted(folder.glob("*.eml"))]


@pytest.fixture
def customer(runtime: Runtime, client: FlaskClient) -> int:
    """A recipient who has set a password (logged out again)."""
    sealed = seal(runtime, build_mail())
    first_login(client, sealed.pin)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").data)})
    return account_id(runtime)


def test_search_by_prefix_with_pages(admin_client: FlaskClient, runtime: Runtime) -> None:
    with runtime.keystore.session() as session:
        accounts = runtime.keystore.recipients(session)
        for n in range(27):
            accounts.get_or_create(f"anna{n:02d}@example.com", created_by=ADVISER)
        accounts.get_or_create("bernd@example.com", created_by=ADVISER)
    first = admin_client.get("/admin/users?q=ANNA")
    assert first.status_code == 200
    text = text_of(first)
    assert "anna00@example.com" in text and "anna24@example.com" in text
    assert "anna25@example.com" not in text and "bernd" not in text
    assert "Next page" in text
    second = text_of(admin_client.get("/admin/users?q=anna&page=2"))
    assert "anna25@example.com" in second and "anna26@example.com" in second
    assert "anna24@example.com" not in second and "Next page" not in second
    assert "No account starts with" in text_of(admin_client.get("/admin/users?q=zora"))
    # Nonsense page numbers do not break the page.
    assert admin_client.get("/admin/users?q=anna&page=x").status_code == 200


def test_detail_page(admin_client: FlaskClient, runtime: Runtime, customer: int) -> None:
    seal(runtime, build_mail())
    text = text_of(admin_client.get(f"/admin/users/{customer}"))
    assert CUSTOMER in text
    assert "Status active" in text
    assert f"by {ADVISER}" in text
    assert "Messages 2" in text
    assert "v1: created" in text
    assert "not locked" in text and "Failed logins 0" in text
    assert "password set" in text
    assert admin_client.get("/admin/users/99999").status_code == 404


def test_reset_password_mails_a_pin_to_the_adviser(
    admin_client: FlaskClient, runtime: Runtime, customer: int, client: FlaskClient
) -> None:
    update_settings(runtime, reset_pin="adviser")
    url = f"/admin/users/{customer}/reset"
    page = admin_client.get(url)
    assert f"to the adviser ({ADVISER})" in text_of(page)
    before = len(outbox(runtime))
    response = admin_client.post(url, data={"csrf_token": csrf_token(page.data), "confirm": "yes"})
    assert response.status_code == 302
    mails = outbox(runtime)
    assert len(mails) == before + 2
    mail, told = mails[-2:]
    assert f"X-Envelope-To: {ADVISER}".encode() in mail
    assert CUSTOMER.encode() in mail
    pin = pin_in(mail)
    # The customer learns that access was reset and who calls, without the PIN.
    assert f"X-Envelope-To: {CUSTOMER}".encode() in told
    notice = message_from_bytes(told, policy=policy.default)
    assert notice["X-WebCrypt-Notice"] == "access_reset"
    body = notice.get_body(preferencelist=("plain",))
    assert body is not None
    assert f"adviser ({ADVISER}) will call you" in " ".join(str(body.get_content()).split())
    assert pin not in told.decode("ascii", "replace") and pin.replace(" ", "") not in told.decode(
        "ascii", "replace"
    )
    page = admin_client.get(response.headers["Location"])
    assert "was told by mail (without the PIN)" in text_of(page)
    assert ("recipient.reset_password", ADMIN, CUSTOMER) in audit_actions(runtime)
    # The old password is gone; the PIN works once.
    with runtime.keystore.session() as session:
        accounts = runtime.keystore.recipients(session)
        assert (
            accounts.authenticate(CUSTOMER, "correct horse battery staple").outcome
            == "pin_required"
        )
        assert accounts.authenticate_pin(CUSTOMER, pin).ok


def test_reset_can_mail_the_recipient(
    admin_client: FlaskClient, runtime: Runtime, customer: int
) -> None:
    update_settings(runtime, reset_pin="recipient", default_language="de")
    before = len(outbox(runtime))
    response = post_form(admin_client, f"/admin/users/{customer}/reset", {"confirm": "yes"})
    assert response.status_code == 302
    assert len(outbox(runtime)) == before + 1  # the PIN mail alone: nobody else to name
    mail = outbox(runtime)[-1]
    assert f"X-Envelope-To: {CUSTOMER}".encode() in mail
    message = message_from_bytes(mail, policy=policy.default)
    assert "Einmal-PIN" in str(message["Subject"])
    # The mail comes from the company's domain, not from the customer's.
    assert "bank.example" in str(message["From"])


def test_reset_without_an_adviser_changes_nothing(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    recipient_id = without_adviser(runtime)
    before = len(outbox(runtime))
    response = post_form(admin_client, f"/admin/users/{recipient_id}/reset", {"confirm": "yes"})
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"])
    assert "No adviser is on record" in text_of(page)
    assert len(outbox(runtime)) == before
    assert "recipient.reset_password" not in [a for a, _, _ in audit_actions(runtime)]


def test_unlock(
    admin_client: FlaskClient, runtime: Runtime, customer: int, client: FlaskClient
) -> None:
    for _ in range(5):
        login(client, password="wrong wrong wrong")
    text = text_of(admin_client.get(f"/admin/users/{customer}"))
    assert "locked until" in text
    assert ("security.lockout", "system", CUSTOMER) in audit_actions(runtime)
    response = post_form(admin_client, f"/admin/users/{customer}/unlock", {"confirm": "yes"})
    assert response.status_code == 302
    assert "not locked" in text_of(admin_client.get(f"/admin/users/{customer}"))
    assert login(client).status_code == 302
    assert ("recipient.unlock", ADMIN, CUSTOMER) in audit_actions(runtime)


def test_deactivate_and_reactivate(
    admin_client: FlaskClient, runtime: Runtime, customer: int, client: FlaskClient
) -> None:
    page = admin_client.get(f"/admin/users/{customer}/deactivate")
    assert "stops sealing" in text_of(page)
    post_form(admin_client, f"/admin/users/{customer}/deactivate", {"confirm": "yes"})
    refused = login(client)  # the right password: told the account is deactivated
    assert refused.status_code == 403 and b"deactivated" in refused.data
    post_form(admin_client, f"/admin/users/{customer}/reactivate", {"confirm": "yes"})
    assert login(client).status_code == 302
    actions = [a for a, _, _ in audit_actions(runtime)]
    assert "recipient.deactivate" in actions and "recipient.reactivate" in actions


def test_rotate_key(admin_client: FlaskClient, runtime: Runtime, customer: int) -> None:
    post_form(admin_client, f"/admin/users/{customer}/rotate", {"confirm": "yes"})
    text = text_of(admin_client.get(f"/admin/users/{customer}"))
    assert "v1: created" in text and "v2: created" in text
    with runtime.keystore.session() as session:
        accounts = runtime.keystore.recipients(session)
        assert accounts.current_key(accounts.get(CUSTOMER)).version == 2
    assert ("recipient.rotate_key", ADMIN, CUSTOMER) in audit_actions(runtime)


def test_delete_needs_the_typed_address(
    admin_client: FlaskClient, runtime: Runtime, customer: int
) -> None:
    url = f"/admin/users/{customer}/delete"
    page = admin_client.get(url)
    assert "becomes unreadable for everyone" in text_of(page)
    wrong = admin_client.post(
        url, data={"csrf_token": csrf_token(page.data), "confirm": "yes", "typed": "someone@else"}
    )
    assert wrong.status_code == 400
    assert "Type the address exactly" in text_of(wrong)
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER) is not None
    response = admin_client.post(
        url, data={"csrf_token": csrf_token(page.data), "confirm": "yes", "typed": CUSTOMER.upper()}
    )
    assert response.status_code == 302
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER) is None
        assert runtime.keystore.recipients(session).key(customer, 1) is None
    assert ("recipient.delete", ADMIN, CUSTOMER) in audit_actions(runtime)


def test_unknown_action_is_404(admin_client: FlaskClient, customer: int) -> None:
    assert admin_client.get(f"/admin/users/{customer}/explode").status_code == 404


def test_get_never_changes_anything(
    admin_client: FlaskClient, runtime: Runtime, customer: int
) -> None:
    for name in ("reset", "unlock", "deactivate", "rotate", "delete"):
        assert admin_client.get(f"/admin/users/{customer}/{name}").status_code == 200
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        assert recipient.status == "active" and recipient.password_hash
    assert not [a for a, _, _ in audit_actions(runtime) if a.startswith("recipient.")]


def test_reset_can_send_the_pin_by_sms_to_the_number_on_record(
    admin_client: FlaskClient, runtime: Runtime, customer: int
) -> None:
    sms = SmsGatewayDouble().start()
    try:
        runtime.config = dataclasses.replace(
            runtime.config, sms=SmsSection(gateway=f"webhook:{sms.url}", token="", timeout=5.0)
        )
        update_settings(runtime, reset_pin="sms")
        with runtime.keystore.session() as session:
            accounts = runtime.keystore.recipients(session)
            accounts.set_phone(accounts.get(CUSTOMER), "+491761234567")
        page = admin_client.get("/admin/settings")
        assert "In force: an SMS to the customer" in text_of(page)
        before = len(outbox(runtime))
        response = post_form(admin_client, f"/admin/users/{customer}/reset", {"confirm": "yes"})
        assert response.status_code == 302
        (message,) = sms.received
        assert message.to == "+491761234567"
        assert len(outbox(runtime)) == before  # no mail: the customer has the PIN
        pin = message.text.split("PIN is ")[1].split(".")[0]
        with runtime.keystore.session() as session:
            assert runtime.keystore.recipients(session).authenticate_pin(CUSTOMER, pin).ok
        with runtime.keystore.session() as session:
            events = runtime.keystore.audit(session).search(action="recipient.reset_password")
            details = [str(e.detail) for e in events]
        assert any("sent by SMS to the sms (+...567)" in d for d in details), details
        assert not any("1761234567" in d for d in details)
    finally:
        sms.stop()


def test_an_admin_enters_and_removes_the_mobile_number(
    admin_client: FlaskClient, runtime: Runtime, customer: int
) -> None:
    url = f"/admin/users/{customer}/phone"
    page = admin_client.get(url)
    assert page.status_code == 200 and "Mobile number" in text_of(page)
    refused = post_form(admin_client, url, {"phone": "0176 1234567"})
    assert refused.status_code == 400
    assert "not an international phone number" in text_of(refused)
    response = post_form(admin_client, url, {"phone": "+49 176 123 4567"})
    assert response.status_code == 302
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).phone == "+491761234567"
    assert "+491761234567" in text_of(admin_client.get(f"/admin/users/{customer}"))
    post_form(admin_client, url, {"phone": ""})
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).phone is None
    with runtime.keystore.session() as session:
        details = [
            str(e.detail) for e in runtime.keystore.audit(session).search(action="recipient.phone")
        ]
    assert sorted(details) == ["mobile number: +...567", "mobile number: none"]
