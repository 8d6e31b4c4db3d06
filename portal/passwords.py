"""The password rule (at least 10 characters, not common or guessable) and the answer rule."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _

from keystore.passwords import ANSWER_MIN_LENGTH, answer_too_short, normalize_answer

MIN_LENGTH = 10

# Passwords of ten characters or more that lead the published leak statistics, plus the
# patterns people build them from. Shorter ones are refused by the length rule already.
_COMMON = [
    "1234567890",
    "0123456789",
    "0987654321",
    "9876543210",
    "1111111111",
    "0000000000",
    "1234512345",
    "1122334455",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwertzuiop",
    "asdfghjkl;",
    "asdfghjkl1",
    "zxcvbnm123",
    "qazwsxedc1",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "qwertz1234",
    "qwertz12345",
    "azertyuiop",
    "1q2w3e4r5t6y",
    "password12",
    "password123",
    "password1234",
    "password12345",
    "passwort12",
    "passwort123",
    "passwort1234",
    "password01",
    "password99",
    "password2024",
    "password2025",
    "password2026",
    "passwort2024",
    "passwort2025",
    "passwort2026",
    "p@ssw0rd12",
    "p@ssword123",
    "passw0rd123",
    "letmein123",
    "letmein1234",
    "welcome123",
    "welcome1234",
    "willkommen",
    "willkommen1",
    "willkommen12",
    "willkommen123",
    "iloveyou12",
    "iloveyou123",
    "ichliebedich",
    "sunshine12",
    "sunshine123",
    "princess12",
    "princess123",
    "football12",
    "football123",
    "fussball12",
    "fussball123",
    "baseball12",
    "basketball",
    "superman12",
    "superman123",
    "batman1234",
    "starwars12",
    "starwars123",
    "pokemon123",
    "dragon1234",
    "monkey1234",
    "abc1234567",
    "abcdefghij",
    "abcdefg123",
    "abcd123456",
    "a123456789",
    "aa12345678",
    "q123456789",
    "1234567890a",
    "123456789a",
    "123456789q",
    "1234qwer12",
    "qwer123456",
    "asdf123456",
    "zxcv123456",
    "computer12",
    "computer123",
    "internet12",
    "internet123",
    "admin12345",
    "administrator",
    "changeme12",
    "changeme123",
    "secret1234",
    "geheim1234",
    "geheim12345",
    "master1234",
    "killer1234",
    "shadow1234",
    "michael123",
    "jennifer12",
    "hallo12345",
    "hallo123456",
    "schatz1234",
    "sommer2024",
    "sommer2025",
    "sommer2026",
    "winter2024",
    "winter2025",
    "winter2026",
    "frühling2025",
    "spring2025",
    "summer2025",
    "autumn2025",
    "herbst2025",
    "december2025",
    "januar2025",
    "1qaz2wsx3e",
    "trustno1234",
    "whatever12",
    "whatever123",
    "qwertyqwerty",
    "asdfasdfasdf",
    "123qweasdzxc",
    "123qweasd1",
    "1q2w3e4r5t6y7u",
    "1234abcd12",
    "abcd1234ab",
    "mustermann1",
    "mustermann123",
    "webcrypt123",
    "password",
    "passwort",
    "qwerty",
    "qwertz",
    "welcome",
    "letmein",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "fussball",
    "monkey",
    "dragon",
    "baseball",
    "superman",
    "batman",
    "starwars",
    "hallo",
    "schatz",
    "geheim",
    "secret",
    "admin",
    "master",
    "webcrypt",
    "willkommen",
    "changeme",
    "trustno1",
    "whatever",
    "michael",
    "jennifer",
    "computer",
    "internet",
    "sommer",
    "winter",
    "summer",
    "mustermann",
]
COMMON_PASSWORDS = frozenset(word.lower() for word in _COMMON)

_SEQUENCES = (
    "0123456789",
    "9876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "qwertzuiop",
    "asdfghjkl",
    "yxcvbnm",
    "zxcvbnm",
)


def password_problem(password: str, address: str = "") -> str | None:
    """Return why `password` is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    lowered = password.lower()
    core = re.sub(r"[\d!?.#@$%&*_\-\s]+$", "", lowered)
    if lowered in COMMON_PASSWORDS or core in COMMON_PASSWORDS or len(set(lowered)) <= 3:
        return _("This password is too common. Please choose a less predictable one.")
    if any(lowered in sequence or lowered in sequence * 2 for sequence in _SEQUENCES):
        return _("This password is too common. Please choose a less predictable one.")
    local = address.partition("@")[0].lower()
    if len(local) >= 4 and local in lowered:
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
