"""The portal's forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # newer than stubs
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from keystore import passwordrules
from keystore.languages import LANGUAGES
from keystore.passwords import ANSWER_MIN_LENGTH, answer_too_short, normalize_answer

#: The security questions on offer, by the key stored in the account.
SECURITY_QUESTIONS: dict[str, Any] = {
    "first_school": _l("What was the name of your first school?"),
    "birth_town": _l("In which town was your mother born?"),
    "first_pet": _l("What was the name of your first pet?"),
    "childhood_friend": _l("What is the first name of your best childhood friend?"),
    "first_car": _l("What was the make and model of your first car?"),
    "favourite_teacher": _l("What was the surname of your favourite teacher?"),
}


def question_text(key: str | None) -> str:
    """Return the translated text of a security question key."""
    return str(SECURITY_QUESTIONS.get(key or "", key or ""))


def question_texts(key: str) -> list[str]:
    """Return a question's key and its text in every language (none may be its answer)."""
    texts = [key]
    for lang in LANGUAGES:
        with force_locale(lang):
            texts.append(question_text(key))
    return texts


def _no_line_breaks(form: FlaskForm, field: Any) -> None:
    if field.data and ("\r" in field.data or "\n" in field.data):
        raise ValidationError(str(_l("Line breaks are not allowed here.")))


def password_problem(password: str, address: str = "") -> str | None:
    """Return why `password` may not be a recipient's password, in their language, or None."""
    problem = passwordrules.password_problem(
        password, address, min_length=passwordrules.MIN_RECIPIENT_LENGTH
    )
    if problem == "short":
        return _(
            "The password must have at least %(n)d characters.",
            n=passwordrules.MIN_RECIPIENT_LENGTH,
        )
    if problem == "common":
        return _("This password is too common. Please choose a less predictable one.")
    if problem == "address":
        return _("The password must not contain your email address.")
    return None


def answer_problem(answer: str, address: str = "", questions: Iterable[str] = ()) -> str | None:
    """Return why `answer` is not acceptable as a security answer, or None when it is.

    Compared as stored (`normalize_answer`): four characters besides spaces, and neither the
    address (nor its part before the @) nor the question itself, which anyone can read.
    """
    folded = normalize_answer(answer)
    if answer_too_short(answer):
        return _("The answer must have at least %(n)d characters.", n=ANSWER_MIN_LENGTH)
    local = address.partition("@")[0]
    if folded in {normalize_answer(address), normalize_answer(local)} - {""}:
        return _("The answer must not be your email address.")
    if folded in {normalize_answer(question) for question in questions} - {""}:
        return _("The answer must not be the question itself.")
    return None


class StrongPassword:
    """Validate a new password: long enough, not common, not the address."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        problem = password_problem(field.data or "", getattr(form, "address", ""))
        if problem:
            raise ValidationError(problem)


class GoodAnswer:
    """Validate a new security answer: long enough, not the address, not the question."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        question = getattr(form, "question", None)
        key = str(question.data or "") if question is not None else ""
        problem = answer_problem(
            field.data or "", getattr(form, "address", ""), question_texts(key)
        )
        if problem:
            raise ValidationError(problem)


class NotASecret:
    """Refuse a security phrase equal to the password or the answer given with it.

    The login page shows the phrase to anyone who types the address, so it must not be
    (or give away) a secret.
    """

    def __call__(self, form: FlaskForm, field: Any) -> None:
        phrase = " ".join((field.data or "").split()).casefold()
        for other in ("new_password", "answer"):
            value = getattr(getattr(form, other, None), "data", None) or ""
            if phrase and phrase == " ".join(value.split()).casefold():
                raise ValidationError(
                    str(
                        _l(
                            "Everyone who types your address sees the phrase: do not use your "
                            "password or your answer."
                        )
                    )
                )


def _phrase() -> StringField:
    return StringField(
        _l("Security phrase"),
        validators=[DataRequired(), Length(min=4, max=80), _no_line_breaks, NotASecret()],
    )


def _email() -> EmailField:
    return EmailField(_l("Email"), validators=[DataRequired(), Length(max=320), _no_line_breaks])


def _new_password() -> PasswordField:
    return PasswordField(_l("New password"), validators=[DataRequired(), StrongPassword()])


def _confirm() -> PasswordField:
    return PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))],
    )


def _question() -> RadioField:
    # Radio buttons, not a drop-down: a long question wraps instead of being cut off on phones.
    return RadioField(
        _l("Security question"),
        choices=[SelectChoice(key, text) for key, text in SECURITY_QUESTIONS.items()],
        default=next(iter(SECURITY_QUESTIONS)),
        validators=[DataRequired()],
    )


def _answer() -> StringField:
    return StringField(_l("Answer"), validators=[DataRequired(), Length(max=200), GoodAnswer()])


class AddressForm(FlaskForm):
    """The first step of the login: the address, so the page can show the phrase."""

    email = _email()


class LoginForm(FlaskForm):
    """Log in with address and password."""

    email = _email()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class PinLoginForm(FlaskForm):
    """First login with address and the one-time PIN from the adviser."""

    email = _email()
    pin = StringField(
        _l("PIN"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"inputmode": "numeric"},
    )


class SetupForm(FlaskForm):
    """Choose a password and a security question after the first login."""

    address = ""
    new_password = _new_password()
    confirm = _confirm()
    question = _question()
    answer = _answer()
    phrase = _phrase()


class ForgotForm(FlaskForm):
    """Start a password reset with the address (a one-time link is mailed to it)."""

    email = _email()


class ForgotLinkForm(FlaskForm):
    """Use the mailed link: its page posts the token back with this form's button."""

    token = HiddenField(validators=[DataRequired(), Length(max=128)])


class ForgotAnswerForm(FlaskForm):
    """Answer the security question and choose a new password."""

    address = ""
    answer = StringField(_l("Answer"), validators=[DataRequired(), Length(max=200)])
    new_password = _new_password()
    confirm = _confirm()


class ChangePasswordForm(FlaskForm):
    """Change the password (the current one is asked again)."""

    address = ""
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = _new_password()
    confirm = _confirm()


class QuestionForm(FlaskForm):
    """Change the security question and its answer."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    question = _question()
    answer = _answer()


class PhraseForm(FlaskForm):
    """Change the security phrase the login page shows before the password."""

    phrase = _phrase()


class LanguageForm(FlaskForm):
    """Choose the language of the portal and of the mails."""

    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("en", "English"), SelectChoice("de", "Deutsch")],
        validators=[DataRequired()],
    )


class ReplyForm(FlaskForm):
    """Write a reply to the adviser (recipients are never taken from the form)."""

    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=1_000_000)])
    attachments = MultipleFileField(_l("Attachments"))
    reply_all = BooleanField(_l("Also send to the other internal recipients"))


class WriteForm(FlaskForm):
    """Write a new secure message to an adviser who has written before."""

    to = SelectField(_l("To"), validators=[DataRequired()])
    subject = StringField(
        _l("Subject"), validators=[DataRequired(), Length(max=200), _no_line_breaks]
    )
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=1_000_000)])
    attachments = MultipleFileField(_l("Attachments"))


DEFAULT_METHOD = "default"
"""The delivery choice that leaves the method to the provider's rules."""


class DeliveryForm(FlaskForm):
    """Choose how secure messages arrive: attachment, secure mailbox or both."""

    method = RadioField(
        _l("How you receive secure messages"),
        choices=[
            SelectChoice(DEFAULT_METHOD, _l("As my provider decides")),
            SelectChoice("mailbox", _l("In the secure mailbox: a mail with a link")),
            SelectChoice("attachment", _l("As an attachment (secure.htm) to a mail")),
            SelectChoice("both", _l("Both: the attachment and a link to the secure mailbox")),
        ],
        validators=[DataRequired()],
    )
