"""Normalization of recipient and admin mail addresses."""

from __future__ import annotations

MAX_ADDRESS_LENGTH = 320
_SECURE_SUFFIX = "#secure"
_FORBIDDEN = set(' \t\r\n<>,;()[]\\"')


def _decode_domain(domain: str) -> str:
    """Turn IDNA (punycode) labels of `domain` into Unicode."""
    labels = []
    for label in domain.split("."):
        if not label:
            raise ValueError(f"empty label in domain {domain!r}")
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError as exc:
                raise ValueError(f"invalid internationalized domain label {label!r}") from exc
        labels.append(label)
    return ".".join(labels)


def normalize_address(address: str) -> str:
    """Return the canonical form of a mail address (lower case, Unicode domain, no `#secure`).

    Strips whitespace and angle brackets and a trailing ``#secure``; raises `ValueError` for
    anything that is not a plain ``local@domain`` address.
    """
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if text.lower().endswith(_SECURE_SUFFIX):
        text = text[: -len(_SECURE_SUFFIX)]
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not a mail address: {address!r}")
    if any(ch in _FORBIDDEN or not ch.isprintable() for ch in text):
        raise ValueError(f"mail address contains characters that are not allowed: {address!r}")
    if "@" in local or local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError(f"invalid local part in mail address: {address!r}")
    normalized = f"{local}@{_decode_domain(domain.rstrip('.').lower())}".lower()
    if len(normalized) > MAX_ADDRESS_LENGTH or len(local) > 64:
        raise ValueError(f"mail address is too long: {address!r}")
    return normalized
