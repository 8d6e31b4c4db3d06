"""Forms of the admin area (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

MIN_PASSWORD = 12


class LoginForm(FlaskForm):
    """Address and password."""

    email = StringField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _code() -> StringField:
    return StringField(
        "Authentication code",
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="Enter the 6 digits from your app."),
        ],
    )


class CodeForm(FlaskForm):
    """The 6-digit code of the authenticator app."""

    code = _code()


class EnrollForm(FlaskForm):
    """First login: confirm the authenticator app and replace the one-time password."""

    code = _code()
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=1024,
                message=f"Choose at least {MIN_PASSWORD} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class ConfirmForm(FlaskForm):
    """A confirmation step; for deletion the address has to be typed again."""

    confirm = HiddenField(default="yes")
    typed = StringField("Type the address to confirm")

    def check_typed(self, expected: str) -> bool:
        """Tell whether the typed address matches `expected` (case and spaces ignored)."""
        if (self.typed.data or "").strip().lower() == expected.lower():
            return True
        self.typed.errors = ["Type the address exactly as shown to confirm."]
        return False


class WithdrawForm(FlaskForm):
    """The Message-ID of a sealed message (with or without angle brackets)."""

    message_id = StringField(
        "Message ID",
        validators=[
            DataRequired(),
            Length(max=255, message="A Message-ID has at most 255 characters."),
            Regexp(
                r"^[^\s]+$",
                message="A Message-ID has no spaces: paste it as it appears in the mail's "
                "headers, for example <1234.abcd@bank.example>.",
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

    logo = FileField("Logo (PNG or JPEG)")
