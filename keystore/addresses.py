"""Normalization of recipient and admin mail addresses, and which of them are internal."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

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
            label = _decode_label(label)
        labels.append(label)
    return ".".join(labels)


def _decode_label(label: str) -> str:
    """Decode one ``xn--`` label by its Punycode, as IDNA 2008 does.

    Python's "idna" codec implements IDNA 2003, which cannot decode labels such as
    ``xn--strae-oqa`` (straße): it would call a valid domain invalid.
    """
    encoded = label[4:].encode("ascii", "replace")
    try:
        decoded = encoded.decode("punycode")
    except UnicodeError as exc:
        raise ValueError(f"invalid internationalized domain label {label!r}") from exc
    # Only the one Punycode spelling of a non-ASCII label is a label.
    if decoded.isascii() or not decoded.isprintable() or decoded.encode("punycode") != encoded:
        raise ValueError(f"invalid internationalized domain label {label!r}")
    return decoded


def _bare(address: str) -> str:
    """Return `address` without surrounding blanks, angle brackets and a trailing ``#secure``."""
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if text.lower().endswith(_SECURE_SUFFIX):
        text = text[: -len(_SECURE_SUFFIX)]
    return text


def normalize_address(address: str) -> str:
    """Return the canonical form of a mail address (lower case, Unicode domain, no `#secure`).

    Strips whitespace and angle brackets and a trailing ``#secure``; raises `ValueError` for
    anything that is not a plain ``local@domain`` address.
    """
    text = _bare(address)
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


def canonical_domain(domain: str) -> str:
    """Return the form in which two spellings of one domain compare equal ("" if invalid).

    Lower case, without a trailing dot, IDNA (``xn--``) labels decoded to Unicode in NFC:
    ``XN--BNK-QLA.Example.`` and ``bänk.example`` give the same text, the form the keystore
    stores addresses in. Anything that is not a dot-separated host name gives "".
    """
    text = unicodedata.normalize("NFC", domain.strip().rstrip(".").lower())
    try:
        decoded = _decode_domain(text)
    except ValueError:
        return ""
    if any(ch in _FORBIDDEN or not ch.isprintable() or ch == "@" for ch in decoded):
        return ""
    return decoded.lower()


def domain_of_address(address: str) -> str:
    """Return the canonical domain of an address as written in SMTP or a header ("" if none).

    Surrounding blanks and angle brackets and a trailing ``#secure`` are ignored; the domain is
    what follows the last ``@``, so a quoted local part holding an ``@`` cannot pose as one.
    """
    local, at, domain = _bare(address).rpartition("@")
    if not at or not local:
        return ""
    return canonical_domain(domain)


@lru_cache(maxsize=16)
def _canonical_domains(domains: frozenset[str]) -> frozenset[str]:
    return frozenset(filter(None, map(canonical_domain, domains)))


def is_internal(address: str, domains: Iterable[str]) -> bool:
    """Tell whether `address` belongs to one of the company's `domains`.

    The one answer for the filter, the portal and the commands. Case, a trailing dot and the
    two forms of an internationalized domain do not matter, nor ``#secure`` or angle
    brackets. Subdomains are not included: ``mail.bank.example`` is internal only when it is
    listed itself, so a doubtful address is treated as a customer's (its mail is encrypted,
    and it cannot make the filter create accounts). Malformed addresses are not internal.
    """
    domain = domain_of_address(address)
    return bool(domain) and domain in _canonical_domains(frozenset(domains))
