"""Dates and times for people, in English and German, independent of the machine's locale."""

from __future__ import annotations

from datetime import UTC, datetime

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
}


def format_day(moment: datetime, lang: str) -> str:
    """Return a date for people: "23 November 2026" or "23. November 2026"."""
    moment = moment.astimezone(UTC)
    month = _MONTHS["de" if lang == "de" else "en"][moment.month - 1]
    if lang == "de":
        return f"{moment.day}. {month} {moment.year}"
    return f"{moment.day} {month} {moment.year}"


def format_moment(moment: datetime, lang: str) -> str:
    """Return a date and time (UTC) for people."""
    moment = moment.astimezone(UTC)
    joiner = ", " if lang == "de" else " at "
    return f"{format_day(moment, lang)}{joiner}{moment:%H:%M} UTC"
