"""The audit log says who did what and when, and never holds a secret.

A full cycle: an admin enrolls and logs in (after a wrong password and a wrong code),
resets a customer, the customer logs in with the mailed PIN, chooses a password, changes
it, fails once and logs out, the admin logs out. Then no password, PIN, TOTP code or
secret, answer, CSRF token or cookie appears anywhere in the audit rows.
"""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from tests.admin.conftest import (
    ADMIN,
    account_id,
    code_at,
    create_admin,
    enrollment_secret,
    factor_step,
    password_step,
    pin_in,
    post_form,
)
from tests.admin.helpers import ONE_TIME
from tests.portal.conftest import first_login, login
from tests.portal.helpers import (
    CUSTOMER,
    PASSWORD,
    FakeClock,
    build_mail,
    change_password,
    csrf_token,
    seal,
)
from webcrypt.runtime import Runtime

ADMIN_CHOSEN = "the admins chosen secret"
WRONG = "wrong-password-9876"
CUSTOMER_NEW = "my brand new secret 42"


def outbox(runtime: Runtime) -> list[bytes]:
    """Return the mails the portal sent, oldest first."""
    folder = Path(str(runtime.config.filter.relay).removeprefix("outbox:"))
    return [path.read_bytes() for path in sorted(folder.glob("*.eml"))]


def audit_rows(runtime: Runtime) -> list[tuple[str, str, str, str, str]]:
    """Return (action, actor, target, ip, detail) of every audit event, oldest first."""
    with runtime.keystore.session() as session:
        events = runtime.keystore.audit(session).search(limit=10_000)
        return [(e.action, e.actor, e.target, e.ip, e.detail) for e in reversed(events)]


def test_a_full_login_and_reset_cycle_leaves_no_secret_in_the_audit_log(
    client: FlaskClient, runtime: Runtime, clock: FakeClock
) -> None:
    secrets: list[str] = [ONE_TIME, ADMIN_CHOSEN, WRONG, PASSWORD, CUSTOMER_NEW, "Bello"]
    create_admin(runtime, ADMIN, ONE_TIME, secret=None)
    # The admin: a wrong password (also one typed into the address field), then enrollment.
    assert password_step(client, ADMIN, WRONG).status_code == 401
    assert password_step(client, WRONG, WRONG).status_code == 401
    password_step(client, ADMIN, ONE_TIME)
    page = client.get("/admin/login/factor")
    totp_secret = enrollment_secret(page.data)
    secrets += [totp_secret, csrf_token(page.data)]
    good = code_at(totp_secret, clock)
    wrong_code = "123456" if good != "123456" else "654321"
    secrets += [good, wrong_code]
    data = {"code": wrong_code, "new_password": ADMIN_CHOSEN, "confirm": ADMIN_CHOSEN}
    response = client.post(
        "/admin/login/factor", data={"csrf_token": csrf_token(page.data), **data}
    )
    assert response.status_code == 401
    response = client.post(
        "/admin/login/factor",
        data={"csrf_token": csrf_token(response.data), **data, "code": good},
    )
    assert response.status_code == 302
    # A second login with the chosen password and a later code.
    clock.advance(seconds=30)
    later = code_at(totp_secret, clock)
    secrets.append(later)
    assert password_step(client, ADMIN, ADMIN_CHOSEN).status_code == 302
    assert factor_step(client, later).status_code == 302
    # The customer is reset; the PIN goes out by mail.
    seal(runtime, build_mail())
    reset = post_form(client, f"/admin/users/{account_id(runtime)}/reset", {"confirm": "yes"})
    assert reset.status_code == 302
    pin = pin_in(outbox(runtime)[-1])
    secrets += [pin, pin.replace(" ", "")]
    # The customer: first login with the PIN, a password change, a failure, logout.
    customer = client.application.test_client()
    assert first_login(customer, pin).status_code == 302
    assert change_password(customer, CUSTOMER_NEW).status_code == 302
    assert login(customer.application.test_client(), password=WRONG).status_code == 401
    cookie = customer.get_cookie("webcrypt")
    assert cookie is not None
    secrets += [cookie.value, csrf_token(customer.get("/profile").data)]
    customer.post("/logout", data={"csrf_token": csrf_token(customer.get("/profile").data)})
    # The admin logs out.
    admin_cookie = client.get_cookie("webcrypt_admin", path="/admin")
    assert admin_cookie is not None
    secrets.append(admin_cookie.value)
    client.post("/admin/logout", data={"csrf_token": csrf_token(client.get("/admin/users").data)})

    rows = audit_rows(runtime)
    actions = [row[0] for row in rows]
    for expected in (
        "admin.login_failed",
        "admin.totp_enrolled",
        "admin.login",
        "recipient.reset_password",
        "portal.first_login",
        "portal.password_changed",
        "portal.logout",
        "admin.logout",
    ):
        assert expected in actions
    # Who and what: admin actions name the admin, their target and the address they came from.
    reset_row = rows[actions.index("recipient.reset_password")]
    assert reset_row[1:4] == (ADMIN, CUSTOMER, "127.0.0.1")
    failed = [row[1] for row in rows if row[0] == "admin.login_failed"]
    assert failed == [ADMIN, "(not an address)", ADMIN]
    leaks = [
        (secret, row) for row in rows for secret in secrets if any(secret in cell for cell in row)
    ]
    assert leaks == []
