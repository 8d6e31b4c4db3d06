"""Role boundaries, CSRF, and the separation of admin and recipient sessions."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.admin.conftest import text_of
from tests.portal.conftest import first_login
from tests.portal.helpers import CUSTOMER, build_mail, csrf_token, seal
from webcrypt.runtime import Runtime

ADMIN_ONLY_GET = [
    "/admin/",
    "/admin/settings",
    "/admin/branding",
    "/admin/branding/preview/portal",
    "/admin/audit",
    "/admin/audit.csv",
    "/admin/messages/withdraw",
]
ADMIN_ONLY_POST = [
    "/admin/settings",
    "/admin/branding",
    "/admin/branding/logo",
    "/admin/messages/withdraw",
]


@pytest.fixture
def recipient_id(runtime: Runtime) -> int:
    seal(runtime, build_mail())
    with runtime.keystore.session() as session:
        return int(runtime.keystore.recipients(session).get(CUSTOMER).id)


@pytest.mark.parametrize("url", ADMIN_ONLY_GET)
def test_helpdesk_gets_403_outside_user_management(helpdesk_client: FlaskClient, url: str) -> None:
    response = helpdesk_client.get(url)
    if url == "/admin/":
        # The dashboard is for admins; helpdesk users land on the user search.
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/admin/users")
        return
    assert response.status_code == 403
    assert "Your role does not include this page" in text_of(response)


@pytest.mark.parametrize("url", ADMIN_ONLY_POST)
def test_helpdesk_cannot_post_admin_forms(helpdesk_client: FlaskClient, url: str) -> None:
    token = csrf_token(helpdesk_client.get("/admin/users").data)
    response = helpdesk_client.post(url, data={"csrf_token": token, "trigger_word": "X"})
    assert response.status_code == 403


def test_helpdesk_manages_users(
    helpdesk_client: FlaskClient, recipient_id: int, runtime: Runtime
) -> None:
    assert helpdesk_client.get("/admin/users?q=kunde").status_code == 200
    assert helpdesk_client.get(f"/admin/users/{recipient_id}").status_code == 200
    url = f"/admin/users/{recipient_id}/deactivate"
    page = helpdesk_client.get(url)
    assert page.status_code == 200
    response = helpdesk_client.post(
        url, data={"csrf_token": csrf_token(page.data), "confirm": "yes"}
    )
    assert response.status_code == 302
    with runtime.keystore.session() as session:
        assert runtime.keystore.recipients(session).get(CUSTOMER).status == "deactivated"


@pytest.mark.parametrize(
    "url", [*ADMIN_ONLY_GET, "/admin/users", "/admin/users/1", "/admin/users/1/delete"]
)
def test_everything_needs_a_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_admin_sees_everything(admin_client: FlaskClient) -> None:
    for url in ADMIN_ONLY_GET:
        assert admin_client.get(url).status_code == 200, url


def test_actions_need_a_csrf_token(admin_client: FlaskClient, recipient_id: int) -> None:
    response = admin_client.post(f"/admin/users/{recipient_id}/deactivate", data={"confirm": "yes"})
    assert response.status_code == 400
    assert "form has expired" in text_of(response)
    response = admin_client.post("/admin/settings", data={"trigger_word": "Secret"})
    assert response.status_code == 400


def test_admin_cookie_is_separate_and_strict(admin_client: FlaskClient) -> None:
    cookie = admin_client.get_cookie("webcrypt_admin", path="/admin")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    assert cookie.path == "/admin"


def test_admin_session_does_not_log_in_a_recipient(admin_client: FlaskClient) -> None:
    response = admin_client.get("/profile")
    # Sent to the login (its first step asks for the address), not shown the profile.
    assert response.status_code in (302, 401) or b'action="/login"' in response.data
    assert b'action="/profile' not in response.data
    assert b"Log out" not in admin_client.get("/").data


def test_recipient_session_does_not_open_the_admin_area(
    client: FlaskClient, runtime: Runtime
) -> None:
    sealed = seal(runtime, build_mail())
    first_login(client, sealed.pin)
    assert client.get("/profile").status_code == 200
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_recipient_cookie_is_no_admin_cookie(client: FlaskClient, runtime: Runtime) -> None:
    sealed = seal(runtime, build_mail())
    first_login(client, sealed.pin)
    recipient_cookie = client.get_cookie("webcrypt")
    assert recipient_cookie is not None
    client.set_cookie("webcrypt_admin", recipient_cookie.value, path="/admin")
    assert client.get("/admin/users").status_code == 302


def test_admin_logout_keeps_the_recipient_logged_in(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    sealed = seal(runtime, build_mail())
    first_login(admin_client, sealed.pin)
    token = csrf_token(admin_client.get("/admin/users").data)
    admin_client.post("/admin/logout", data={"csrf_token": token})
    assert admin_client.get("/profile").status_code == 200
    assert admin_client.get("/admin/users").status_code == 302


def test_admin_pages_send_a_strict_policy(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/users")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script" not in response.get_data(as_text=True)
