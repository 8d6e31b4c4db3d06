"""Dates and times on every portal and admin page, in the page's language (as in the mails)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from flask_babel import get_locale

from webcrypt.mail.dates import format_day, format_moment

HEADER_FORMAT = "%Y-%m-%d %H:%M %z"
"""How the message view spells a Date header it could read."""


def show_moment(value: datetime | str | None) -> str:
    """Return `value` for people in the page's language; "" for none.

    A string is a Date header (as sent, or as the message view spelled it); one that cannot
    be read is shown as it is.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        parsed = _parse(value)
        if parsed is None:
            return value
        value = parsed
    return format_moment(value, _language())


def show_day(value: datetime) -> str:
    """Return the day (UTC) of `value` for people in the page's language."""
    return format_day(value, _language())


def _language() -> str:
    return str(get_locale() or "en")


def _parse(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), HEADER_FORMAT)
    except ValueError:
        pass
    try:
        found = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return found if found.tzinfo is not None else None
