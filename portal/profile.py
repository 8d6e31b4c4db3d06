"""The recipient's profile: account dates, password, security question, phrase, language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.context import Services, runtime, services, settings
from portal.extensions import LANGUAGE_KEY, limited
from portal.forms import (
    DEFAULT_METHOD,
    ChangePasswordForm,
    DeliveryForm,
    LanguageForm,
    PhraseForm,
    QuestionForm,
    question_text,
)
from portal.identity import current_recipient, log_in
from portal.loginpage import login_page
from portal.moments import show_moment
from portal.stored import mailbox

bp = Blueprint("profile", __name__, url_prefix="/profile")


def _forms(recipient: Any, phrase: str | None) -> dict[str, Any]:
    return {
        "password_form": ChangePasswordForm(formdata=None, prefix="password"),
        "question_form": QuestionForm(
            formdata=None, prefix="question", question=recipient.security_question
        ),
        "phrase_form": PhraseForm(formdata=None, prefix="phrase", phrase=phrase or ""),
        "language_form": LanguageForm(
            formdata=None, prefix="language", language=recipient.language or "en"
        ),
        "delivery_form": DeliveryForm(
            formdata=None,
            prefix="delivery",
            method=getattr(recipient, "delivery_method", None) or DEFAULT_METHOD,
        )
        if delivery_choice()
        else None,
    }


def delivery_choice() -> bool:
    """Tell whether the operator lets customers choose how their messages arrive."""
    return bool(runtime().config.portal.delivery_choice)


def _page(
    recipient: Any, phrase: str | None, status: int = 200, **forms: Any
) -> ResponseReturnValue:
    """Render the profile page with fresh forms except the ones given."""
    limits = settings()
    last_use = recipient.last_activity_at or recipient.last_login_at or recipient.created_at
    valid_until = last_use + timedelta(days=int(limits.inactivity_days)) if last_use else None
    shown = {**_forms(recipient, phrase), **forms}
    return render_template(
        "profile/show.html",
        recipient=recipient,
        created=show_moment(recipient.created_at),
        last_login=show_moment(recipient.last_login_at),
        valid_until=show_moment(valid_until),
        question=question_text(recipient.security_question),
        **shown,
    ), status


@bp.route("", methods=["GET"])
def show() -> ResponseReturnValue:
    """Show the profile page."""
    with services() as found:
        recipient = current_recipient(found)
        phrase = found.recipients.security_phrase(recipient) if recipient is not None else None
    return _page(recipient, phrase) if recipient is not None else login_page()


Change = Callable[[Services, Any, Any], None]


@dataclass(frozen=True)
class Section:
    """A form of the profile page: what it posts to ``/profile/<name>`` and what saving does.

    A section that asks for the current password is rate-limited like a login.
    """

    form: Callable[..., Any]
    apply: Change
    done: str  # lazy: translated when flashed
    description: str
    password_check: bool = False
    offered: Callable[[], bool] = lambda: True


def _change(name: str, section: Section) -> ResponseReturnValue:
    """Validate the posted form of the profile section `name` and apply it.

    The page is rendered after the session closed (see `portal.context.services`).
    """
    if not section.offered():
        return redirect(url_for("profile.show"))
    form = section.form(prefix=name)
    status = 0
    phrase = None
    with services() as found:
        recipient = current_recipient(found)
        if recipient is not None:
            phrase = found.recipients.security_phrase(recipient)
            form.address = recipient.address
            if not form.validate_on_submit():
                status = 400
            elif (
                section.password_check
                and not found.recipients.authenticate(
                    recipient.address, form.current_password.data
                ).ok
            ):
                status = 401
            else:
                section.apply(found, recipient, form)
    if recipient is None:
        return login_page()
    if status == 401:
        form.current_password.errors = [_("The current password is not correct.")]
    if status:
        return _page(recipient, phrase, status, **{f"{name}_form": form})
    flash(str(section.done), "success")
    return redirect(url_for("profile.show"))


def _set_password(found: Services, recipient: Any, form: Any) -> None:
    found.recipients.set_password(recipient, form.new_password.data)
    found.audit.record("portal.password_changed", actor=recipient.address)
    log_in(recipient)  # a new session; sessions elsewhere end with the old password


def _set_question(found: Services, recipient: Any, form: Any) -> None:
    found.recipients.set_security_question(recipient, form.question.data, form.answer.data)
    found.audit.record("portal.question_changed", actor=recipient.address)


def _set_phrase(found: Services, recipient: Any, form: Any) -> None:
    found.recipients.set_security_phrase(recipient, form.phrase.data)
    found.audit.record("portal.phrase_changed", actor=recipient.address)


def _set_language(found: Services, recipient: Any, form: Any) -> None:
    found.recipients.set_language(recipient, form.language.data)
    session[LANGUAGE_KEY] = form.language.data


def _set_delivery(found: Services, recipient: Any, form: Any) -> None:
    method = None if form.method.data == DEFAULT_METHOD else str(form.method.data)
    mailbox(found).set_delivery_method(int(recipient.id), method)
    found.audit.record(
        "portal.delivery_changed", actor=recipient.address, detail=method or DEFAULT_METHOD
    )


SECTIONS = {
    "password": Section(
        ChangePasswordForm,
        _set_password,
        _l("Your password has been changed."),
        "Change the password after checking the current one.",
        password_check=True,
    ),
    "question": Section(
        QuestionForm,
        _set_question,
        _l("Your security question has been changed."),
        "Change the security question and answer after checking the password.",
        password_check=True,
    ),
    "phrase": Section(
        PhraseForm,
        _set_phrase,
        _l("Your security phrase has been saved."),
        "Change the security phrase the login page shows before the password.",
    ),
    "language": Section(
        LanguageForm,
        _set_language,
        _l("Your language has been saved."),
        "Choose the language of the portal and of the mails.",
    ),
    "delivery": Section(
        DeliveryForm,
        _set_delivery,
        _l("Your choice has been saved."),
        "Choose how secure messages arrive (when the operator allows customers to choose).",
        offered=delivery_choice,
    ),
}


def _section_view(name: str, section: Section) -> Callable[[], ResponseReturnValue]:
    """Return the view that saves the profile section `name` (endpoint ``change_<name>``)."""

    def view() -> ResponseReturnValue:
        return _change(name, section)

    view.__name__ = f"change_{name}"
    view.__doc__ = section.description
    return limited("login")(view) if section.password_check else view


for _name, _section in SECTIONS.items():
    bp.add_url_rule(f"/{_name}", view_func=_section_view(_name, _section), methods=["POST"])


__all__ = ["bp"]
