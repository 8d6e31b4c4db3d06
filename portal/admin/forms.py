"""Forms of the admin area (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from keystore import passwordrules

MIN_PASSWORD = passwordrules.MIN_ADMIN_LENGTH
#: Why a password may not be an admin's (by `keystore.passwordrules.password_problem`).
PASSWORD_PROBLEMS = {
    "short": _l("Choose at least %(num)d characters.", num=MIN_PASSWORD),
    "common": _l("This is a common password that attackers try first. Choose another one."),
    "address": _l("The password must not contain your email address or its name part."),
}


def password_problem(password: str, email: str) -> str | None:
    """Return why `password` may not be the password of the admin `email`, or None."""
    problem = passwordrules.password_problem(password, email, min_length=MIN_PASSWORD)
    return None if problem is None else str(PASSWORD_PROBLEMS[problem])


class LoginForm(FlaskForm):
    """Address and password."""

    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _code() -> StringField:
    return StringField(
        _l("Authentication code"),
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Enter the 6 digits from your app.")),
        ],
    )


class CodeForm(FlaskForm):
    """The 6-digit code of the authenticator app."""

    code = _code()


class EnrollForm(FlaskForm):
    """First login: confirm the authenticator app and replace the one-time password."""

    code = _code()
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=1024,
                message=_l("Choose at least %(num)d characters.", num=MIN_PASSWORD),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class ConfirmForm(FlaskForm):
    """A confirmation step; for deletion the address has to be typed again."""

    confirm = HiddenField(default="yes")
    typed = StringField(_l("Type the address to confirm"))

    def check_typed(self, expected: str) -> bool:
        """Tell whether the typed address matches `expected` (case and spaces ignored)."""
        if (self.typed.data or "").strip().lower() == expected.lower():
            return True
        self.typed.errors = [_("Type the address exactly as shown to confirm.")]
        return False


class WithdrawForm(FlaskForm):
    """The Message-ID of a sealed message (with or without angle brackets)."""

    message_id = StringField(
        _l("Message-ID"),
        validators=[
            DataRequired(),
            Length(max=255, message=_l("A Message-ID has at most 255 characters.")),
            Regexp(
                r"^[^\s]+$",
                message=_l(
                    "A Message-ID has no spaces: paste it as it appears in the mail's "
                    "headers, for example <1234.abcd@bank.example>."
                ),
            ),
        ],
    )

    def normalized(self) -> str:
        """Return the id as the ledger stores it (without angle brackets)."""
        return str(self.message_id.data or "").strip().strip("<>")


class BareForm(FlaskForm):
    """A form that only carries the CSRF token (fields are read and validated elsewhere)."""


class LogoForm(FlaskForm):
    """The logo upload."""

    logo = FileField(_l("Logo (PNG or JPEG)"))
