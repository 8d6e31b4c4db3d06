"""Admin login: password + TOTP, enrollment on the first login, lockout, idle timeout."""

from __future__ import annotations

import pyotp
from flask.testing import FlaskClient

from tests.admin.conftest import (
    ADMIN,
    Account,
    audit_actions,
    code_at,
    create_admin,
    enrollment_secret,
    factor_step,
    log_in,
    password_step,
    text_of,
)
from tests.admin.helpers import confirm_enrollment, enrollment
from tests.portal.conftest import update_settings
from tests.portal.helpers import FakeClock, csrf_token
from webcrypt.runtime import Runtime

NEW_PASSWORD = "my own admin password"


def test_first_login_enrolls_totp_and_replaces_the_password(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    create_admin(runtime, ADMIN, "one-time-password-123", secret=None)
    response = password_step(client, ADMIN, "one-time-password-123")
    assert response.status_code == 302
    page = client.get("/admin/login/factor")
    assert page.status_code == 200
    assert b'src="data:image/svg+xml;base64,' in page.data
    secret = enrollment_secret(page.data)
    # A wrong code is refused and nothing is stored.
    wrong = str((int(code_at(secret, clock)) + 1) % 1_000_000).zfill(6)
    response = factor_step(client, wrong, new_password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert response.status_code == 401
    # The same secret is shown again until it is confirmed.
    assert enrollment_secret(response.data) == secret
    response = confirm_enrollment(client, secret, clock, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    actions = [action for action, _, _ in audit_actions(runtime)]
    assert "admin.totp_enrolled" in actions and "admin.login" in actions
    with runtime.keystore.session() as session:
        admins = runtime.keystore.admins(session)
        stored = admins.get(ADMIN)
        assert stored.totp_secret != secret and admins.totp_secret(stored) == secret
    # The one-time password is used up; the new one works, with a code.
    fresh = client.application.test_client()
    assert password_step(fresh, ADMIN, "one-time-password-123").status_code == 401
    clock.advance(seconds=30)  # each code works once
    log_in(fresh, Account(ADMIN, NEW_PASSWORD, secret), clock)


def test_enrollment_rejects_a_short_or_mismatched_password(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    page, secret = enrollment(client, runtime)
    data = {"csrf_token": csrf_token(page.data), "code": code_at(secret, clock)}
    short = client.post(
        "/admin/login/factor", data={**data, "new_password": "short", "confirm": "short"}
    )
    assert short.status_code == 400
    assert "at least 12 characters" in text_of(short)
    differ = client.post(
        "/admin/login/factor",
        data={**data, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
    )
    assert differ.status_code == 400
    assert "The passwords differ." in text_of(differ)


def test_login_needs_the_code(
    client: FlaskClient, admin_account: Account, clock: FakeClock
) -> None:
    assert password_step(client, ADMIN, admin_account.password).status_code == 302
    # Password alone gives no access.
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    bad = factor_step(
        client, "000000" if code_at(admin_account.secret, clock) != "000000" else "111111"
    )
    assert bad.status_code == 401
    assert "code is not correct" in text_of(bad)
    good = factor_step(client, code_at(admin_account.secret, clock))
    assert good.status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_wrong_password_is_refused_and_audited(
    client: FlaskClient, admin_account: Account, runtime: Runtime
) -> None:
    response = password_step(client, ADMIN, "not the password")
    assert response.status_code == 401
    assert "not correct" in text_of(response)
    unknown = password_step(client, "nobody@bank.example", "not the password")
    assert unknown.status_code == 401
    assert text_of(unknown).count("not correct") == text_of(response).count("not correct")
    failed = [
        target for action, _, target in audit_actions(runtime) if action == "admin.login_failed"
    ]
    assert failed == [ADMIN, "nobody@bank.example"]


def test_factor_page_without_the_password_step(client: FlaskClient) -> None:
    response = client.get("/admin/login/factor")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/login")


def test_second_factor_must_follow_within_minutes(
    client: FlaskClient, admin_account: Account, clock: FakeClock
) -> None:
    password_step(client, ADMIN, admin_account.password)
    clock.advance(minutes=6)
    response = client.get("/admin/login/factor")
    assert response.status_code == 302


def test_lockout_after_failed_passwords(
    client: FlaskClient, admin_account: Account, runtime: Runtime, clock: FakeClock
) -> None:
    update_settings(runtime, lockout_threshold=3, lockout_minutes=10)
    for _ in range(3):
        assert password_step(client, ADMIN, "wrong password").status_code == 401
    # Locked: even the right password fails, with the same answer.
    assert password_step(client, ADMIN, admin_account.password).status_code == 401
    assert ("security.lockout", "system", ADMIN) in audit_actions(runtime)
    clock.advance(minutes=11)
    log_in(client, admin_account, clock)


def test_wrong_codes_count_towards_the_lockout(
    client: FlaskClient, admin_account: Account, runtime: Runtime, clock: FakeClock
) -> None:
    update_settings(runtime, lockout_threshold=2)
    good = code_at(admin_account.secret, clock)
    wrong = "123456" if good != "123456" else "654321"
    password_step(client, ADMIN, admin_account.password)
    assert factor_step(client, wrong).status_code == 401
    assert factor_step(client, wrong).status_code == 401
    # Locked now: the right code does not help.
    assert factor_step(client, good).status_code == 401
    assert client.get("/admin/users").status_code == 302


def test_idle_timeout(admin_client: FlaskClient, runtime: Runtime, clock: FakeClock) -> None:
    clock.advance(minutes=14)
    assert admin_client.get("/admin/users").status_code == 200
    clock.advance(minutes=14)  # 14 minutes since the last request: still in
    assert admin_client.get("/admin/users").status_code == 200
    clock.advance(minutes=16)
    response = admin_client.get("/admin/users")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"])
    assert "inactivity" in text_of(page)


def test_idle_timeout_follows_the_setting(
    admin_client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    update_settings(runtime, admin_idle_minutes=60)
    clock.advance(minutes=50)
    assert admin_client.get("/admin/users").status_code == 200
    update_settings(runtime, admin_idle_minutes=5)
    clock.advance(minutes=6)
    assert admin_client.get("/admin/users").status_code == 302


def test_disabling_an_admin_ends_the_session(admin_client: FlaskClient, runtime: Runtime) -> None:
    with runtime.keystore.session() as session:
        service = runtime.keystore.admins(session)
        service.disable(service.get(ADMIN))
    assert admin_client.get("/admin/users").status_code == 302


def test_logout(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/users")
    response = admin_client.post("/admin/logout", data={"csrf_token": csrf_token(page.data)})
    assert response.status_code == 302
    assert admin_client.get("/admin/users").status_code == 302


def test_login_form_needs_a_csrf_token(client: FlaskClient, admin_account: Account) -> None:
    response = client.post(
        "/admin/login", data={"email": ADMIN, "password": admin_account.password}
    )
    assert response.status_code == 400
    assert "form has expired" in text_of(response)


def test_login_is_rate_limited(client: FlaskClient, admin_account: Account) -> None:
    client.application.config["RATELIMIT_ADMIN_LOGIN"] = "3 per minute"
    statuses = [password_step(client, ADMIN, "wrong password").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_totp_codes_use_a_standard_secret(admin_account: Account, clock: FakeClock) -> None:
    # Sanity check of the helper the other tests rely on.
    assert pyotp.TOTP(admin_account.secret).verify(
        code_at(admin_account.secret, clock), for_time=clock.now
    )


def test_a_code_works_only_once(
    client: FlaskClient, admin_account: Account, runtime: Runtime, clock: FakeClock
) -> None:
    log_in(client, admin_account, clock)
    other = client.application.test_client()
    password_step(other, ADMIN, admin_account.password)
    # The code just used (or an older one) is refused, even from another browser.
    assert factor_step(other, code_at(admin_account.secret, clock)).status_code == 401
    clock.advance(seconds=30)
    assert factor_step(other, code_at(admin_account.secret, clock)).status_code == 302


def wrong_code(account: Account, clock: FakeClock) -> str:
    """Return a code that is not the current one."""
    return "123456" if code_at(account.secret, clock) != "123456" else "654321"


def test_a_correct_password_does_not_reset_the_wrong_codes(
    client: FlaskClient, admin_account: Account, runtime: Runtime, clock: FakeClock
) -> None:
    update_settings(runtime, lockout_threshold=3)
    password_step(client, ADMIN, admin_account.password)
    assert factor_step(client, wrong_code(admin_account, clock)).status_code == 401
    assert factor_step(client, wrong_code(admin_account, clock)).status_code == 401
    # The attacker who has the password starts again: the code counter goes on.
    assert password_step(client, ADMIN, admin_account.password).status_code == 302
    assert factor_step(client, wrong_code(admin_account, clock)).status_code == 401
    assert password_step(client, ADMIN, admin_account.password).status_code == 302
    assert factor_step(client, code_at(admin_account.secret, clock)).status_code == 401
    assert client.get("/admin/users").status_code == 302
    assert ("security.lockout", "system", ADMIN) in audit_actions(runtime)


def test_the_code_lock_outlasts_the_password_and_ends_in_time(
    client: FlaskClient, admin_account: Account, runtime: Runtime, clock: FakeClock
) -> None:
    update_settings(runtime, lockout_threshold=2, lockout_minutes=10)
    password_step(client, ADMIN, admin_account.password)
    for _ in range(2):
        factor_step(client, wrong_code(admin_account, clock))
    clock.advance(minutes=4)
    password_step(client, ADMIN, admin_account.password)
    assert factor_step(client, code_at(admin_account.secret, clock)).status_code == 401
    clock.advance(minutes=7)
    log_in(client, admin_account, clock)
