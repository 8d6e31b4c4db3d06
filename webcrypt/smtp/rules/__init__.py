"""Trigger and policy rules, one small module each, looked up by name.

Every rule module exposes ``name``, ``description`` and ``check(message, context) -> bool``
(the GNU Mailman 3 shape). `TRIGGERS` are the rules any one of which asks for encryption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import cast

from keystore import addresses
from webcrypt.mail.message import MailMessage


@dataclass(frozen=True)
class Context:
    """What rules know besides the message: the SMTP envelope and the current settings."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    trigger_word: str = "WebCrypt"
    internal_domains: frozenset[str] = field(default_factory=frozenset)

    trusted_client: bool = True
    """Whether the SMTP client is one the filter seals for (a trusted network)."""

    def is_internal(self, address: str) -> bool:
        """Tell whether an address belongs to an internal domain (see `addresses.is_internal`)."""
        return addresses.is_internal(address, self.internal_domains)


class Rule:
    """The shape of a rule module."""

    name: str
    description: str
    check: Callable[[MailMessage, Context], bool]


def _load() -> dict[str, Rule]:
    # cycle: each rule module imports Context from this package.
    from webcrypt.smtp.rules import header_trigger, internal_sender, secure_suffix, subject_trigger

    modules: list[ModuleType] = [subject_trigger, secure_suffix, header_trigger, internal_sender]
    return {module.name: cast(Rule, module) for module in modules}


RULES: dict[str, Rule] = _load()
TRIGGERS: tuple[str, ...] = ("subject-trigger", "secure-suffix", "header-trigger")


def get(name: str) -> Rule:
    """Return the rule called `name` (KeyError for an unknown name)."""
    return RULES[name]


def matching_triggers(message: MailMessage, context: Context) -> list[str]:
    """Return the names of the trigger rules that match."""
    return [name for name in TRIGGERS if RULES[name].check(message, context)]
