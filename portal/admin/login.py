"""Admin login: password, then a TOTP code; the first login enrolls the authenticator app."""

from __future__ import annotations

import base64
import hmac
from typing import Any

import pyotp
import qrcode
import qrcode.image.svg
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from keystore.addresses import normalize_address
from portal import metrics
from portal.admin import bp
from portal.admin import session as admin_session
from portal.admin.access import Page, Services, client_ip, public, safe_next, services
from portal.admin.forms import CodeForm, EnrollForm, LoginForm, password_problem
from portal.context import now, settings
from portal.extensions import limited, use_account_language

FAILED = _l(
    "The email address or the password is not correct, or the account is locked for a while "
    "after too many failed attempts."
)
FAILED_CODE = _l(
    "The code is not correct, or the account is locked for a while after too many failed "
    "attempts. Check the time on your phone and use the newest code."
)


def _audit(found: Services, action: str, *, actor: str, detail: str = "") -> None:
    found.audit.record(action, actor=actor, target=actor, ip=client_ip(), detail=detail)
    metrics.admin_action(action)


def _failure(found: Services, email: str, outcome: str, detail: str) -> None:
    """Audit a failed attempt (a lockout it causes is audited by the keystore)."""
    metrics.admin_login("failed")
    _audit(found, "admin.login_failed", actor=typed_name(email), detail=f"{detail} ({outcome})")


def typed_name(typed: str) -> str:
    """Return what was typed as the address, for the audit log, when it is an address.

    Anything else is left out: it may be the password, typed into the wrong field.
    """
    try:
        return normalize_address(typed)
    except ValueError:
        return "(not an address)"


def qr_data_uri(uri: str) -> str:
    """Return the QR code of an otpauth:// URI as an inline SVG data: URI."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg: bytes = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def group(secret: str) -> str:
    """Return a secret in groups of four for typing it into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str) -> int | None:
    """Return the time step whose TOTP code `code` is (one step of clock drift allowed)."""
    digits = "".join(code.split())
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now())
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


@bp.route("/login", methods=["GET", "POST"])
@public
@limited("admin_login")
def login() -> ResponseReturnValue:
    """Check address and password; the second factor follows on the next page."""
    form = LoginForm()
    next_url = request.values.get("next", "")
    note = (
        _("Your session ended after a period of inactivity.")
        if (request.method == "GET" and admin_session.ended_by_timeout())
        else ""
    )
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("admin/login.html", form=form, next=next_url, note=note), status
    email = (form.email.data or "").strip()
    with services() as found:
        result = found.admins.authenticate(email, form.password.data or "")
        if result.ok:
            admin_session.start_factor(result.admin)
        else:
            _failure(found, email, result.outcome, "wrong password")
    if not result.ok:
        return render_template("admin/login.html", form=form, next=next_url, failure=FAILED), 401
    return redirect(url_for("admin.factor", next=next_url or None))


def _enroll_page(admin: Any, form: EnrollForm, product: str, **extra: Any) -> Page:
    secret = admin_session.enrollment_secret(admin.id)
    if not secret:
        secret = pyotp.random_base32()
        admin_session.set_enrollment_secret(admin.id, secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=admin.email, issuer_name=product)
    return Page(
        "admin/enroll.html",
        form=form,
        qr=qr_data_uri(uri),
        secret=group(secret),
        email=admin.email,
        **extra,
    )


@bp.route("/login/factor", methods=["GET", "POST"])
@public
@limited("admin_login")
def factor() -> ResponseReturnValue:
    """Second factor: the TOTP code, or on the first login, enrolling the app."""
    admin_id = admin_session.pending_admin_id()
    next_url = request.values.get("next", "")
    if admin_id is None:
        flash(_("Please log in again."), "error")
        return redirect(url_for("admin.login"))
    product = settings().product_name or "WebCrypt"
    with services() as found:
        outcome = _second_factor(found, admin_id, next_url, product)
    return outcome.render() if isinstance(outcome, Page) else outcome


def _second_factor(
    found: Services, admin_id: int, next_url: str, product: str
) -> Page | ResponseReturnValue:
    admin = found.admins.get_by_id(admin_id)
    if not admin_session.belongs_to(admin_session.state(), admin) or admin is None:
        admin_session.log_out()
        return redirect(url_for("admin.login"))
    secret = found.admins.totp_secret(admin)
    if secret is None:
        return _enroll(found, admin, next_url, product)
    form = CodeForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return Page("admin/factor.html", status, form=form, next=next_url)
    # A code works once: the keystore refuses a replayed or older one, even when two
    # requests with the same code race; wrong codes have a lock of their own.
    outcome = found.admins.check_code(admin, matching_step(secret, form.code.data or ""))
    if outcome != "ok":
        _failure(found, admin.email, outcome, "wrong authentication code")
        return Page("admin/factor.html", 401, form=form, next=next_url, failure=FAILED_CODE)
    return _logged_in(found, admin, next_url)


def _logged_in(found: Services, admin: Any, next_url: str) -> ResponseReturnValue:
    found.admins.record_login(admin)
    _audit(found, "admin.login", actor=admin.email)
    metrics.admin_login("ok")
    admin_session.log_in(admin)
    use_account_language(admin.language)
    home = "admin.dashboard" if admin.role == "admin" else "admin.users"
    return redirect(safe_next(next_url, url_for(home)))


def _enroll(found: Services, admin: Any, next_url: str, product: str) -> Page | ResponseReturnValue:
    form = EnrollForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return _enroll_page(admin, form, product, status=status, next=next_url)
    problem = password_problem(form.new_password.data or "", admin.email)
    if problem:
        form.new_password.errors = [problem]
        return _enroll_page(admin, form, product, status=400, next=next_url)
    secret = admin_session.enrollment_secret(admin.id)
    outcome = found.admins.check_code(
        admin, matching_step(secret, form.code.data or "") if secret else None
    )
    if outcome != "ok":
        _failure(found, admin.email, outcome, "wrong code while enrolling")
        return _enroll_page(admin, form, product, status=401, next=next_url, failure=FAILED_CODE)
    found.admins.set_password(admin, form.new_password.data or "")
    found.admins.set_totp_secret(admin, secret)
    _audit(found, "admin.totp_enrolled", actor=admin.email)
    response = _logged_in(found, admin, next_url)
    flash(_("Two-factor login is set up and your password is saved."), "success")
    return response


@bp.route("/logout", methods=["POST"])
@public
def logout() -> ResponseReturnValue:
    """End every session of the account, on every instance (CSRF is checked for every POST)."""
    admin_id = admin_session.session_id()
    try:
        if admin_id is not None:
            idle_minutes = int(settings().admin_idle_minutes)
            with services() as found:
                admin = found.admins.get_by_id(admin_id)
                signed_in = admin_session.identity(admin, idle_minutes=idle_minutes)
                if signed_in is not None and admin is not None:
                    found.admins.end_sessions(admin)
                    _audit(found, "admin.logout", actor=admin.email)
    finally:
        admin_session.log_out()  # this browser's session ends even when the keystore is down
    flash(_("You have been logged out."), "success")
    return redirect(url_for("admin.login"))
