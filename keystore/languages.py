"""The languages of the product: portal, admin frontend, mails and secure.htm."""

LANGUAGES = ("en", "de")
"""Language codes in order of preference; the first is the fallback."""
