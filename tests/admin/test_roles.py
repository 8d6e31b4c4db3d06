"""Every admin view against every role: each has a decision, and the decision holds.

The walk enumerates the application's URL rules under /admin, so a new view without an
entry in `EXPECTED` fails here until someone decides who may use it. The application
itself refuses to start with an admin view that has no role decision at all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal import create_app
from portal.admin import users as user_views
from portal.admin.access import ROLES_ATTRIBUTE
from tests.admin.conftest import Account, account_id, log_in
from tests.portal.conftest import TEST_CONFIG
from tests.portal.helpers import FakeClock, build_mail, csrf_token, seal
from webcrypt.runtime import Runtime

ROLES = ("anonymous", "helpdesk", "admin")
#: A login is asked for: a redirect to the login page.
LOGIN = "login"
ACTIONS = ("reset", "unlock", "deactivate", "reactivate", "rotate", "delete")

#: (endpoint, method, argument) -> expected answer for (anonymous, helpdesk, admin).
#: POSTs carry a valid CSRF token and nothing else (a deletion lacks the typed address).
EXPECTED: dict[tuple[str, str, str], tuple[int | str, int | str, int | str]] = {
    ("admin.login", "GET", ""): (200, 200, 200),
    ("admin.login", "POST", ""): (400, 400, 400),
    # Without a password step just before, the second factor sends back to the login.
    ("admin.factor", "GET", ""): (LOGIN, LOGIN, LOGIN),
    ("admin.factor", "POST", ""): (LOGIN, LOGIN, LOGIN),
    ("admin.dashboard", "GET", ""): (LOGIN, 302, 200),
    ("admin.users", "GET", ""): (LOGIN, 200, 200),
    ("admin.user", "GET", ""): (LOGIN, 200, 200),
    ("admin.user_phone", "GET", ""): (LOGIN, 200, 200),
    ("admin.user_phone", "POST", ""): (LOGIN, 302, 302),
    # Without a method chosen, the rules decide again.
    ("admin.user_delivery", "POST", ""): (LOGIN, 302, 302),
    **{("admin.user_action", "GET", name): (LOGIN, 200, 200) for name in ACTIONS[:4]},
    **{("admin.user_action", "POST", name): (LOGIN, 302, 302) for name in ACTIONS[:4]},
    ("admin.user_action", "GET", "rotate"): (LOGIN, 403, 200),
    ("admin.user_action", "POST", "rotate"): (LOGIN, 403, 302),
    ("admin.user_action", "GET", "delete"): (LOGIN, 403, 200),
    ("admin.user_action", "POST", "delete"): (LOGIN, 403, 400),
    ("admin.settings_page", "GET", ""): (LOGIN, 403, 200),
    ("admin.settings_page", "POST", ""): (LOGIN, 403, 400),
    ("admin.branding", "GET", ""): (LOGIN, 403, 200),
    ("admin.branding", "POST", ""): (LOGIN, 403, 200),
    ("admin.upload_logo", "POST", ""): (LOGIN, 403, 302),
    **{("admin.preview", "GET", kind): (LOGIN, 403, 200) for kind in ("portal", "secure")},
    ("admin.preview", "GET", "carrier"): (LOGIN, 403, 200),
    ("admin.audit", "GET", ""): (LOGIN, 403, 200),
    ("admin.audit_csv", "GET", ""): (LOGIN, 403, 200),
    ("admin.withdraw", "GET", ""): (LOGIN, 403, 200),
    ("admin.withdraw", "POST", ""): (LOGIN, 403, 400),
    # Without a language named, nothing is stored.
    ("admin.language", "POST", ""): (LOGIN, 404, 404),
    # Last: it ends the session.
    ("admin.logout", "POST", ""): (LOGIN, LOGIN, LOGIN),
}
#: Values of the variable parts of the rules.
ARGUMENTS = {"name": ACTIONS, "kind": ("portal", "secure", "carrier")}


def requests_of(app: Flask, recipient_id: int) -> list[tuple[str, str, str, str]]:
    """Return (endpoint, method, argument, url) for every admin view, logout last."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.static":
            continue
        variable = [name for name in rule.arguments if name != "recipient_id"]
        values = ARGUMENTS[variable[0]] if variable else ("",)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for value in values:
                arguments = (
                    {"recipient_id": recipient_id} if "recipient_id" in rule.arguments else {}
                )
                if variable:
                    arguments[variable[0]] = value
                with app.test_request_context():
                    url = url_for(rule.endpoint, **arguments)
                found.append((rule.endpoint, method, value, url))
    return sorted(found, key=lambda item: item[0] == "admin.logout")


def answer(response: TestResponse) -> int | str:
    """Return the status code, or LOGIN for a redirect to the admin login page."""
    location = urlsplit(response.headers.get("Location", "")).path
    return (
        LOGIN
        if response.status_code == 302 and location == "/admin/login"
        else int(response.status_code)
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_view_against_every_role(
    role: str,
    client: FlaskClient,
    runtime: Runtime,
    clock: FakeClock,
    admin_account: Account,
    helpdesk_account: Account,
) -> None:
    seal(runtime, build_mail())  # a customer with an adviser, so a reset has a destination
    recipient_id = account_id(runtime)
    if role != "anonymous":
        log_in(client, admin_account if role == "admin" else helpdesk_account, clock)
    token = csrf_token(client.get("/admin/login").data)
    column = ROLES.index(role)
    undecided, wrong = [], []
    for endpoint, method, argument, url in requests_of(client.application, recipient_id):
        expected = EXPECTED.get((endpoint, method, argument))
        if expected is None:
            undecided.append(f"{method} {url}")
            continue
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        got = answer(response)
        if got != expected[column]:
            wrong.append(f"{method} {url}: {got}, expected {expected[column]}")
    assert undecided == [], "admin views without a role decision in EXPECTED"
    assert wrong == []


def test_every_expected_view_exists(client: FlaskClient, runtime: Runtime) -> None:
    seal(runtime, build_mail())
    walked = {
        (endpoint, method, argument)
        for endpoint, method, argument, _ in requests_of(client.application, account_id(runtime))
    }
    assert set(EXPECTED) == walked


def test_an_admin_view_without_a_role_decision_stops_the_app(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(user_views.users, ROLES_ATTRIBUTE)
    with pytest.raises(RuntimeError, match=r"admin views without a role decision: admin\.users"):
        create_app(runtime, dict(TEST_CONFIG))


def test_helpdesk_is_offered_only_its_actions(
    client: FlaskClient, runtime: Runtime, clock: FakeClock, helpdesk_account: Account
) -> None:
    seal(runtime, build_mail())
    log_in(client, helpdesk_account, clock)
    page = client.get(f"/admin/users/{account_id(runtime)}").get_data(as_text=True)
    assert "Reset password" in page and "Deactivate" in page
    assert "/delete" not in page and "/rotate" not in page
