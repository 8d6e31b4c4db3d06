"""The languages of the product: portal, admin frontend, mails and secure.htm."""

LANGUAGES = ("en", "de")
"""Language codes in order of preference; the first is the fallback."""


def check_language(lang: str | None) -> str | None:
    """Return `lang` when it is one of LANGUAGES or None (no choice); else raise ValueError."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return lang
