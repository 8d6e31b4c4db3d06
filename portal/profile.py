"""The recipient's profile: account dates, password, security question, phrase, language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _

from portal.auth import login_page
from portal.context import Services, services, settings
from portal.extensions import LANGUAGE_KEY
from portal.forms import (
    ChangePasswordForm,
    LanguageForm,
    PhraseForm,
    QuestionForm,
    question_text,
)
from portal.identity import current_recipient, log_in

bp = Blueprint("profile", __name__, url_prefix="/profile")


def _forms(recipient: Any) -> dict[str, Any]:
    return {
        "password_form": ChangePasswordForm(formdata=None, prefix="password"),
        "question_form": QuestionForm(
            formdata=None, prefix="question", question=recipient.security_question
        ),
        "phrase_form": PhraseForm(
            formdata=None, prefix="phrase", phrase=recipient.security_phrase or ""
        ),
        "language_form": LanguageForm(
            formdata=None, prefix="language", language=recipient.language or "en"
        ),
    }


def _page(recipient: Any, status: int = 200, **forms: Any) -> ResponseReturnValue:
    """Render the profile page with fresh forms except the ones given."""
    limits = settings()
    last_use = recipient.last_activity_at or recipient.last_login_at or recipient.created_at
    valid_until = last_use + timedelta(days=int(limits.inactivity_days)) if last_use else None
    shown = {**_forms(recipient), **forms}
    return render_template(
        "profile/show.html",
        recipient=recipient,
        created=format_datetime(recipient.created_at, "medium") if recipient.created_at else "",
        last_login=format_datetime(recipient.last_login_at, "medium")
        if recipient.last_login_at
        else "",
        valid_until=format_datetime(valid_until, "medium") if valid_until else "",
        question=question_text(recipient.security_question),
        **shown,
    ), status


def _logged_in(found: Services) -> Any:
    return current_recipient(found)


@bp.route("", methods=["GET"])
def show() -> ResponseReturnValue:
    """Show the profile page."""
    with services() as found:
        recipient = _logged_in(found)
        if recipient is None:
            return login_page()
        return _page(recipient)


def _check_password(found: Services, recipient: Any, password: str) -> bool:
    result = found.recipients.authenticate(recipient.address, password)
    return bool(result.ok)


@bp.route("/password", methods=["POST"])
def change_password() -> ResponseReturnValue:
    """Change the password after checking the current one."""
    with services() as found:
        recipient = _logged_in(found)
        if recipient is None:
            return login_page()
        form = ChangePasswordForm(prefix="password")
        form.address = recipient.address
        if not form.validate_on_submit():
            return _page(recipient, 400, password_form=form)
        if not _check_password(found, recipient, form.current_password.data):
            form.current_password.errors = [_("The current password is not correct.")]
            return _page(recipient, 401, password_form=form)
        found.recipients.set_password(recipient, form.new_password.data)
        found.audit.record("portal.password_changed", actor=recipient.address)
        log_in(recipient)  # a new session; sessions elsewhere end with the old password
    flash(_("Your password has been changed."), "success")
    return redirect(url_for("profile.show"))


@bp.route("/question", methods=["POST"])
def change_question() -> ResponseReturnValue:
    """Change the security question and answer after checking the password."""
    with services() as found:
        recipient = _logged_in(found)
        if recipient is None:
            return login_page()
        form = QuestionForm(prefix="question")
        if not form.validate_on_submit():
            return _page(recipient, 400, question_form=form)
        if not _check_password(found, recipient, form.current_password.data):
            form.current_password.errors = [_("The current password is not correct.")]
            return _page(recipient, 401, question_form=form)
        found.recipients.set_security_question(recipient, form.question.data, form.answer.data)
        found.audit.record("portal.question_changed", actor=recipient.address)
    flash(_("Your security question has been changed."), "success")
    return redirect(url_for("profile.show"))


@bp.route("/phrase", methods=["POST"])
def change_phrase() -> ResponseReturnValue:
    """Set or clear the security phrase shown in secure.htm."""
    with services() as found:
        recipient = _logged_in(found)
        if recipient is None:
            return login_page()
        form = PhraseForm(prefix="phrase")
        if not form.validate_on_submit():
            return _page(recipient, 400, phrase_form=form)
        found.recipients.set_security_phrase(recipient, form.phrase.data or None)
    flash(_("Your security phrase has been saved."), "success")
    return redirect(url_for("profile.show"))


@bp.route("/language", methods=["POST"])
def change_language() -> ResponseReturnValue:
    """Choose the language of the portal and of the mails."""
    with services() as found:
        recipient = _logged_in(found)
        if recipient is None:
            return login_page()
        form = LanguageForm(prefix="language")
        if not form.validate_on_submit():
            return _page(recipient, 400, language_form=form)
        found.recipients.set_language(recipient, form.language.data)
        session[LANGUAGE_KEY] = form.language.data
    flash(_("Your language has been saved."), "success")
    return redirect(url_for("profile.show"))


__all__ = ["bp"]
