"""Logging in: password, first login with the PIN, forgotten password, logout.

Every failure gives the same answer whether or not the address has an account; the
keystore spends the same password-hashing work on unknown addresses, and slows down
repeated failures per pair of address and client IP for known and unknown ones alike.

A forgotten password needs the mailbox first (a one-time link, used by a POST from its
page) and then the answer to the security question; wrong answers count per account.

The password login has two steps: the address first, then a page that shows the
customer's security phrase (a decoy for an unknown address) above the password field.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from keystore.recipients import AuthResult, throttle_key
from keystore.resets import LINKS_PER_HOUR
from portal import metrics
from portal.accountmail import MailContext, mailer, reset_notice_mail, reset_request_job
from portal.context import Page, Services, now, services
from portal.extensions import limited
from portal.forms import (
    AddressForm,
    ForgotAnswerForm,
    ForgotForm,
    ForgotLinkForm,
    LoginForm,
    PinLoginForm,
    SetupForm,
    question_text,
)
from portal.identity import SETUP, current_recipient, log_in, log_out, visitor
from portal.loginpage import carried_envelope, login_page, render_carrying
from portal.parking import has_parked, park
from portal.reading import show_message
from portal.stored import target_after_login

bp = Blueprint("auth", __name__)
DEACTIVATED = _l(
    "This account is deactivated. Please contact your adviser, who can have it reactivated."
)


def address_step(envelope: str) -> ResponseReturnValue:
    """Take the address (first login step) and show its phrase with the password field."""
    if "other_address" in request.form:
        return login_page(envelope=envelope, form=AddressForm(formdata=None))
    form = AddressForm()
    if not form.validate_on_submit():
        return login_page(envelope=envelope, form=form, status=400)
    return login_page(envelope=envelope, email=(form.email.data or "").strip())


def continue_after_login(envelope: str) -> ResponseReturnValue:
    """Go on to the message that brought the recipient here, or to the inbox."""
    if envelope:
        return show_message(envelope)
    return redirect(target_after_login() or url_for("inbox.index"))


@bp.route("/login", methods=["GET", "POST"])
@limited("login", counts=metrics.login)
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
    typed = (form.email.data or "").strip()
    with services() as found:
        result = found.recipients.authenticate(typed, form.password.data or "", ip=_client())
        if result.ok and result.recipient is not None:  # an "ok" result carries the account
            found.recipients.record_login(result.recipient)
            log_in(result.recipient)
            found.audit.record("portal.login", actor=result.recipient.address, ip=_client())
            if not result.recipient.security_phrase:  # accounts from before phrases
                flash(_("Please choose your security phrase in your profile."), "info")
        else:
            _record_failure(found, "portal.login_failed", typed, result)
    metrics.login("ok" if result.ok else "failed")
    if not result.ok:
        failure = _(
            "The email address or the password is not correct. On your first login, use the "
            "PIN from your adviser."
        )
        return _refused(failure, result, envelope=envelope, form=form)
    return continue_after_login(envelope)


def _record_failure(found: Services, action: str, typed: str, result: AuthResult) -> None:
    """Put a failed login in the audit log: who was tried, from where, why (no secret)."""
    address = throttle_key(typed)
    found.audit.record(action, actor=address, target=address, ip=_client(), detail=result.outcome)


def _refused(
    failure: str, result: AuthResult, *, envelope: str, pin: bool = False, form: Any = None
) -> ResponseReturnValue:
    """Show the login page again with `failure`, and how long to wait when throttled.

    The wait is added when this address was tried wrongly too often from here; unknown
    addresses are slowed down in the same way, so this tells nothing about accounts. A
    deactivated account is named instead of `failure`: only after the right password or
    PIN, so it tells nobody else.
    """
    if result.outcome == "inactive":
        return login_page(envelope=envelope, pin=pin, form=form, failure=DEACTIVATED, status=403)
    if result.outcome == "throttled" and result.locked_until is not None:
        seconds = max(1, int((result.locked_until - now()).total_seconds() + 0.999))
        wait = ngettext(
            "Too many failed attempts from here: please wait %(num)d second before trying again.",
            "Too many failed attempts from here: please wait %(num)d seconds before trying again.",
            seconds,
        )
        failure = f"{wait} {failure}"
    return login_page(envelope=envelope, pin=pin, form=form, failure=failure, status=401)


@bp.route("/login/pin", methods=["GET", "POST"])
@limited("login", counts=metrics.login)
def login_pin() -> ResponseReturnValue:
    """First login with address and the one-time PIN."""
    envelope = carried_envelope()
    if request.method == "POST" and "use_password" in request.form:
        return login_page(envelope=envelope, email=request.form.get("email", ""))
    form = PinLoginForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return login_page(envelope=envelope, pin=True, status=status)
    typed = (form.email.data or "").strip()
    with services() as found:
        result = found.recipients.authenticate_pin(typed, form.pin.data or "", ip=_client())
        if result.ok:
            log_in(result.recipient, stage=SETUP)
        else:
            action = "portal.pin_expired" if result.outcome == "expired" else "portal.pin_failed"
            _record_failure(found, action, typed, result)
    metrics.login("ok" if result.ok else "failed")
    if result.outcome == "expired":
        failure = _(
            "This PIN has expired. Please ask your adviser for a new one; you can then log in "
            "with the new PIN."
        )
        return login_page(envelope=envelope, pin=True, failure=failure, status=401)
    if not result.ok:
        failure = _(
            "The email address or the PIN is not correct. If you have chosen a password "
            "already, log in with your password."
        )
        return _refused(failure, result, envelope=envelope, pin=True)
    return render_carrying("auth/setup.html", envelope, form=SetupForm(formdata=None))


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
                page = Page("auth/setup.html", status, form=form)
            else:
                _finish_setup(found, recipient, form)
    # Pages are rendered once the session is closed (see portal.context.services).
    if recipient is None:
        return login_page(envelope=envelope, pin=True)
    if page is not None:
        return render_carrying(page.template, envelope, **page.context), page.status
    flash(_("Your password has been saved."), "success")
    return continue_after_login(envelope)


def _finish_setup(found: Services, recipient: Any, form: SetupForm) -> None:
    accounts = found.recipients
    accounts.set_password(recipient, form.new_password.data or "")
    accounts.set_security_question(recipient, form.question.data, form.answer.data or "")
    accounts.set_security_phrase(recipient, form.phrase.data)
    accounts.record_login(recipient)
    found.audit.record("portal.first_login", actor=recipient.address, ip=_client())
    log_in(recipient)


# -- forgotten password: the mailbox first, then the security question ----------------------

RESET_KEY = "reset"


def _reset_page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(f"auth/{template}.html", **context), status


def _recent_requests(found: Services, address: str) -> int:
    """Return how many resets were asked for `address` in the last hour (mails are capped)."""
    since = now() - timedelta(hours=1)
    return len(found.audit.search(action="portal.reset_requested", target=address, since=since))


@bp.route("/forgot", methods=["GET", "POST"])
@limited("login")
def forgot() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _reset_page("forgot", 400 if request.method == "POST" else 200, form=form)
    typed = (form.email.data or "").strip()
    where = MailContext.of_request()
    job = None
    with services() as found:
        recipient = found.recipients.get(typed)
        target = str(recipient.address) if recipient is not None else throttle_key(typed)
        # The same statements for every address; what differs runs after the answer.
        recent = _recent_requests(found, target)
        found.audit.record(
            "portal.reset_requested",
            actor=target,
            target=target,
            ip=_client(),
            detail="" if recent < LINKS_PER_HOUR else "nothing mailed: too many in the last hour",
        )
        if recipient is not None and recent < LINKS_PER_HOUR:
            job = reset_request_job(int(recipient.id), ip=_client(), now=now(), where=where)
    if job is not None:
        mailer().submit(job)
    return _reset_page("forgot_sent")


@bp.route("/forgot/park", methods=["POST"])
@limited("upload")
def forgot_park() -> ResponseReturnValue:
    """Keep the message being opened, then start the forgotten-password flow."""
    envelope = carried_envelope()
    if envelope:
        park(envelope)
    return redirect(url_for("auth.forgot"))


@bp.route("/forgot/link/<token>", methods=["GET"])
def forgot_link(token: str) -> ResponseReturnValue:
    """Show the page of a mailed link: only its button (a POST) uses the link.

    Mail scanners and link previews fetch links with GET; they must not use up the token.
    """
    form = ForgotLinkForm(formdata=None, token=token[:128])
    return _reset_page("forgot_link", form=form)


@bp.route("/forgot/link", methods=["POST"])
@limited("login", counts=metrics.login)
def forgot_link_use() -> ResponseReturnValue:
    """Use a mailed link (once), then ask the security question."""
    form = ForgotLinkForm()
    if not form.validate_on_submit():
        return _reset_page("forgot_invalid", 400)
    question = ""
    state = "invalid"
    with services() as found:
        row = found.recipients.use_reset_token(form.token.data or "")
        if row is not None:
            recipient = found.recipients.get_by_id(row.recipient_id)
            state = found.recipients.reset_state(recipient) if recipient else "inactive"
            found.audit.record(
                "portal.reset_link_used",
                actor=str(recipient.address) if recipient else "",
                target=str(recipient.address) if recipient else "",
                ip=_client(),
                detail=f"state {state}",
            )
            if state == "open" and recipient is not None:  # "open" is a state of an account
                question = question_text(recipient.security_question)
                session[RESET_KEY] = {"token": int(row.id)}
    if state == "invalid":
        return _reset_page("forgot_invalid", 400)
    if state != "open":
        return _reset_page("forgot_closed", 403)
    return _reset_page("forgot_answer", form=ForgotAnswerForm(formdata=None), question=question)


@bp.route("/forgot/answer", methods=["POST"])
@limited("login", counts=metrics.login)
def forgot_answer() -> ResponseReturnValue:
    """Check the answer to the security question and set the new password."""
    state = session.get(RESET_KEY)
    token_id = int(state["token"]) if isinstance(state, dict) and "token" in state else None
    form = ForgotAnswerForm()
    page: tuple[str, int, dict[str, Any]] | None = None
    mail = None
    moment = now()
    where = MailContext.of_request()
    with services() as found:
        active = found.recipients.active_reset(token_id) if token_id is not None else None
        if active is None:
            page = ("forgot_invalid", 400, {})
        else:
            recipient = active[1]
            form.address = recipient.address
            question = question_text(recipient.security_question)
            if not form.validate_on_submit():
                page = ("forgot_answer", 400, {"form": form, "question": question})
            else:
                page, mail = _answer(found, recipient, form, question, moment, where)
    if mail is not None:
        mailer().send(mail)
    if page is not None:
        if page[0] != "forgot_answer":
            session.pop(RESET_KEY, None)
        return _reset_page(page[0], page[1], **page[2])
    session.pop(RESET_KEY, None)
    metrics.login("ok")
    flash(_("Your new password has been saved."), "success")
    return redirect(url_for("reader.resume" if has_parked() else "reader.index"))


def _answer(
    found: Services,
    recipient: Any,
    form: ForgotAnswerForm,
    question: str,
    moment: Any,
    where: MailContext,
) -> tuple[tuple[str, int, dict[str, Any]] | None, Any]:
    """Check the posted answer; return the page to show (None: logged in) and the notice."""
    address = str(recipient.address)
    result = found.recipients.check_reset_answer(recipient, form.answer.data or "")
    if result.outcome == "ok":
        found.recipients.set_password(recipient, form.new_password.data or "")
        found.recipients.unlock(recipient)  # ends the reset (its link) and any back-off
        found.recipients.record_login(recipient)
        found.audit.record("portal.password_reset", actor=address, target=address, ip=_client())
        log_in(recipient)
        return None, reset_notice_mail(recipient, "password_changed", moment, where)
    metrics.login("failed")
    detail = f"wrong answer {result.failures} of {result.limit}"
    if result.outcome == "closed":
        found.audit.record(
            "portal.reset_closed", actor=address, target=address, ip=_client(), detail=detail
        )
        return ("forgot_closed", 403, {}), reset_notice_mail(recipient, "closed", moment, where)
    found.audit.record(
        "portal.reset_wrong_answer", actor=address, target=address, ip=_client(), detail=detail
    )
    left = result.limit - result.failures
    failure = ngettext(
        "The answer is not correct. After one more wrong answer, resetting the password here "
        "is no longer possible.",
        "The answer is not correct. After %(num)d more wrong answers, resetting the password "
        "here is no longer possible.",
        left,
    )
    page = ("forgot_answer", 401, {"form": form, "question": question, "failure": failure})
    return page, reset_notice_mail(recipient, "wrong_answer", moment, where, left=left)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Log out everywhere; with a carried message, show the login page for it.

    Every session of the account ends, on every instance: a copy of the cookie (another
    device, or one taken from this browser) is refused from now on.
    """
    envelope = carried_envelope()
    who = visitor()
    try:
        if who is not None:
            with services() as found:
                recipient = current_recipient(found, stage=who.stage)
                if recipient is not None:
                    found.recipients.end_sessions(recipient)
                    found.audit.record("portal.logout", actor=recipient.address, ip=_client())
    finally:
        log_out()  # this browser's session ends even when the keystore is unavailable
    if envelope:
        return login_page(envelope=envelope, email=request.form.get("email", ""))
    flash(_("You have been logged out."), "success")
    return redirect(url_for("auth.login"))


def _client() -> str:
    return request.remote_addr or ""


def logged_in_address() -> str | None:
    """Return the address of the fully logged-in recipient (checked against the keystore).

    Call it with no keystore session open.
    """
    if visitor() is None:
        return None
    with services() as found:
        recipient = current_recipient(found)
        return str(recipient.address) if recipient is not None else None
