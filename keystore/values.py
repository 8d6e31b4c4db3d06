"""Typed values from text or JSON, shared by the configuration file and the admin settings.

Each parser returns the value in the form the gateway compares it in, or raises
`keystore.errors.InvalidValue` with a message that says what is allowed (the caller adds which
option it was; the admin pages show the message in the admin's language).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from keystore.addresses import canonical_domain
from keystore.errors import InvalidValue

_DOMAIN_LABEL = re.compile(r"^(?!-)[\w\-]{1,63}(?<!-)$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def integer(low: int, high: int | None = None) -> Callable[[object], int]:
    """Return a parser of whole numbers from `low` to `high` (no upper bound when None)."""

    def parse(value: object) -> int:
        if isinstance(value, bool):
            raise InvalidValue("must be a whole number")
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise InvalidValue("must be a whole number")
        if value < low and high is None:
            raise InvalidValue("must be at least %(low)d", low=low)
        if value < low or (high is not None and value > high):
            raise InvalidValue("must be between %(low)d and %(high)d", low=low, high=high)
        return value

    return parse


def choice(*allowed: str) -> Callable[[object], str]:
    """Return a parser that accepts exactly one of `allowed`."""

    def parse(value: object) -> str:
        if value not in allowed:
            raise InvalidValue("must be one of: %(choices)s", choices=", ".join(allowed))
        return str(value)

    return parse


def boolean(value: object) -> bool:
    """Parse a flag: a boolean, or 1/true/yes/on and 0/false/no/off/empty in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidValue("must be true or false")


def domains(value: object) -> tuple[str, ...]:
    """Parse domain names (a list, or text separated by commas or blanks), each once.

    They come back in the form the filter and the portal compare domains in: lower case,
    without a final dot, IDNA 2008 labels decoded (`keystore.addresses.canonical_domain`).
    """
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,]+", value) if part]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidValue("must be a list of domain names")
    result: list[str] = []
    for raw in value:
        labels = canonical_domain(raw).split(".")
        if not all(_DOMAIN_LABEL.match(label) for label in labels):
            raise InvalidValue("%(domain)s is not a domain name", domain=repr(raw))
        name = ".".join(labels)
        if name not in result:
            result.append(name)
    return tuple(result)
