"""Logging in: password, first login with the PIN, forgotten password, logout.

Every failure gives the same answer whether or not the address has an account; the
keystore spends the same password-hashing work on unknown addresses.

The password login has two steps: the address first, then a page that shows the
customer's security phrase (a decoy for an unknown address) above the password field.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal import metrics
from portal.context import Page, Services, services
from portal.forms import (
    SECURITY_QUESTIONS,
    AddressForm,
    ForgotAnswerForm,
    ForgotForm,
    LoginForm,
    PinLoginForm,
    SetupForm,
    question_text,
)
from portal.identity import SETUP, current_recipient, log_in, log_out, session_ended, visitor
from portal.phrases import login_origin, phrase_for

bp = Blueprint("auth", __name__)


def carried_envelope() -> str:
    """Return the ciphertext carried through this form, if any (it is never stored)."""
    return request.form.get("envelope", "").strip()


def login_page(
    *,
    envelope: str = "",
    email: str = "",
    failure: str = "",
    pin: bool = False,
    status: int = 200,
    form: Any = None,
) -> ResponseReturnValue:
    """Render the login page (password or PIN), carrying `envelope` along.

    With an address known, the password page shows that address's security phrase;
    without one, it asks for the address first.
    """
    if form is None:
        form = PinLoginForm() if pin else LoginForm()
    if email and not form.email.data:
        form.email.data = email
    address = (form.email.data or "").strip()
    phrase = "" if pin or not address or form.email.errors else phrase_for(address)
    if phrase:
        form.email.render_kw = {"readonly": True}
    note = _("Your session has ended. Please log in again.") if session_ended() else ""
    template = "auth/login_pin.html" if pin else "auth/login.html"
    return render_template(
        template,
        form=form,
        envelope=envelope,
        failure=failure,
        note=note,
        phrase=phrase,
        origin=login_origin(),
    ), status


def address_step(envelope: str) -> ResponseReturnValue:
    """Take the address (first login step) and show its phrase with the password field."""
    if "other_address" in request.form:
        return login_page(envelope=envelope, form=AddressForm(formdata=None))
    form = AddressForm()
    if not form.validate_on_submit():
        return login_page(envelope=envelope, form=form, status=400)
    return login_page(envelope=envelope, email=form.email.data.strip())


def continue_after_login(envelope: str) -> ResponseReturnValue:
    """Go on to the message that brought the recipient here, or to the start page."""
    if envelope:
        from portal.reading import show_message

        return show_message(envelope)
    return redirect(url_for("reader.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in with address and password."""
    envelope = carried_envelope()
    if request.method == "POST" and "use_pin" in request.form:
        return login_page(envelope=envelope, email=request.form.get("email", ""), pin=True)
    if request.method == "POST" and (
        "password" not in request.form or "other_address" in request.form
    ):
        return address_step(envelope)
    form = LoginForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return login_page(envelope=envelope, form=form if status == 400 else None, status=status)
    with services() as found:
        result = found.recipients.authenticate(form.email.data.strip(), form.password.data)
        if result.ok:
            found.recipients.record_login(result.recipient)
            log_in(result.recipient)
            found.audit.record("portal.login", actor=result.recipient.address, ip=_client())
            if not result.recipient.security_phrase:  # accounts from before phrases
                flash(_("Please choose your security phrase in your profile."), "info")
    metrics.login("ok" if result.ok else "failed")
    if not result.ok:
        return login_page(
            envelope=envelope,
            form=form,
            failure=_(
                "The email address or the password is not correct, or the account is locked "
                "for a while after too many failed attempts. On your first login, use the PIN "
                "from your adviser."
            ),
            status=401,
        )
    return continue_after_login(envelope)


@bp.route("/login/pin", methods=["GET", "POST"])
def login_pin() -> ResponseReturnValue:
    """First login with address and the one-time PIN."""
    envelope = carried_envelope()
    if request.method == "POST" and "use_password" in request.form:
        return login_page(envelope=envelope, email=request.form.get("email", ""))
    form = PinLoginForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return login_page(envelope=envelope, pin=True, status=status)
    with services() as found:
        result = found.recipients.authenticate_pin(form.email.data.strip(), form.pin.data)
        if result.ok:
            log_in(result.recipient, stage=SETUP)
    metrics.login("ok" if result.ok else "failed")
    if not result.ok:
        return login_page(
            envelope=envelope,
            pin=True,
            failure=_(
                "The email address or the PIN is not correct, or the account is locked for a "
                "while after too many failed attempts. If you have chosen a password already, "
                "log in with your password."
            ),
            status=401,
        )
    return render_template("auth/setup.html", form=SetupForm(formdata=None), envelope=envelope)


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> ResponseReturnValue:
    """Choose a password, a security question and the phrase after the first PIN login."""
    envelope = carried_envelope()
    page: Page | None = None
    with services() as found:
        recipient = current_recipient(found, stage=SETUP)
        if recipient is not None:
            form = SetupForm()
            form.address = recipient.address
            if request.method == "GET" or not form.validate_on_submit():
                status = 400 if request.method == "POST" else 200
                page = Page("auth/setup.html", status, form=form, envelope=envelope)
            else:
                _finish_setup(found, recipient, form)
    # Pages are rendered once the session is closed (see portal.context.services).
    if recipient is None:
        return login_page(envelope=envelope, pin=True)
    if page is not None:
        return page.render()
    flash(_("Your password has been saved."), "success")
    return continue_after_login(envelope)


def _finish_setup(found: Services, recipient: Any, form: SetupForm) -> None:
    accounts = found.recipients
    accounts.set_password(recipient, form.new_password.data)
    accounts.set_security_question(recipient, form.question.data, form.answer.data)
    accounts.set_security_phrase(recipient, form.phrase.data)
    accounts.record_login(recipient)
    found.audit.record("portal.first_login", actor=recipient.address, ip=_client())
    log_in(recipient)


def decoy_question(address: str) -> str:
    """Return the question shown for an address without an answer on file.

    Chosen by a keyed hash of the address, it is stable across attempts and looks like a
    real account's question, so the page never tells whether an account exists.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, address.strip().lower().encode(), hashlib.sha256).digest()
    keys = list(SECURITY_QUESTIONS)
    return keys[digest[0] % len(keys)]


def question_for(address: str) -> str:
    """Return the security question key for `address` (a decoy when there is none)."""
    with services() as found:
        try:
            recipient = found.recipients.get(address)
        except ValueError:
            recipient = None
    if (
        recipient is not None
        and recipient.security_answer_hash
        and recipient.security_question in SECURITY_QUESTIONS
    ):
        return str(recipient.security_question)
    return decoy_question(address)


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Start resetting a forgotten password with the security question."""
    form = ForgotForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form)
    address = form.email.data.strip()
    answer_form = ForgotAnswerForm(formdata=None, email=address)
    return render_template(
        "auth/forgot_answer.html", form=answer_form, question=question_text(question_for(address))
    )


@bp.route("/forgot/answer", methods=["POST"])
def forgot_answer() -> ResponseReturnValue:
    """Check the answer to the security question and set the new password."""
    form = ForgotAnswerForm()
    address = (form.email.data or "").strip()
    form.address = address
    question = question_text(question_for(address)) if address else ""
    if not form.validate_on_submit():
        return render_template("auth/forgot_answer.html", form=form, question=question), 400
    with services() as found:
        result = found.recipients.check_security_answer(address, form.answer.data)
        if result.ok:
            found.recipients.set_password(result.recipient, form.new_password.data)
            found.recipients.record_login(result.recipient)
            found.audit.record(
                "portal.password_reset", actor=result.recipient.address, ip=_client()
            )
            log_in(result.recipient)
    metrics.login("ok" if result.ok else "failed")
    if not result.ok:
        failure = _(
            "The answer is not correct, or the account is locked for a while after too many "
            "failed attempts. If you cannot remember the answer, ask your adviser for a new PIN."
        )
        return render_template(
            "auth/forgot_answer.html", form=form, question=question, failure=failure
        ), 401
    flash(_("Your new password has been saved."), "success")
    return redirect(url_for("reader.index"))


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Log out; with a carried message, show the login page for it (another address)."""
    envelope = carried_envelope()
    log_out()
    if envelope:
        return login_page(envelope=envelope, email=request.form.get("email", ""))
    flash(_("You have been logged out."), "success")
    return redirect(url_for("auth.login"))


def _client() -> str:
    return request.remote_addr or ""


def logged_in_address() -> str | None:
    """Return the address of the fully logged-in recipient according to the session."""
    who = visitor()
    return who.address if who is not None and who.stage == "full" else None
