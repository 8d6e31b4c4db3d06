"""Encrypt when the subject contains the trigger word (whole word, any case)."""

from __future__ import annotations

import re
from functools import lru_cache

from webcrypt.mail.message import MailMessage
from webcrypt.smtp.rules.rulecontext import Context

name = "subject-trigger"
description = "The subject contains the trigger word (default WebCrypt) as a whole word."


@lru_cache(maxsize=16)
def _pattern(word: str) -> re.Pattern[str]:
    w = re.escape(word)
    bounded = rf"(?<!\w){w}(?!\w)"
    # The word alone in brackets, or followed by a colon, goes away together with them.
    return re.compile(rf"\[\s*{bounded}\s*\]|\(\s*{bounded}\s*\)|{bounded}\s*:?", re.IGNORECASE)


def check(message: MailMessage, context: Context) -> bool:
    """Tell whether the decoded subject contains the trigger word."""
    word = context.trigger_word.strip()
    return bool(word) and _pattern(word).search(message.subject) is not None


def remove_trigger(subject: str, word: str) -> str:
    """Return `subject` without the trigger word and the brackets or colon around it."""
    if not word.strip():
        return subject
    cleaned = _pattern(word.strip()).sub(" ", subject)
    return " ".join(cleaned.split())
