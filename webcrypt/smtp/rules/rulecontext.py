"""What a rule sees besides the message, and the shape every rule module has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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

    thread_trigger: bool = True
    """Whether an answer to a mail sent from the portal is sealed (the ``thread_trigger``
    setting)."""

    portal_senders: Callable[[Sequence[str]], set[str]] = field(default=lambda ids: set())
    """Return the addresses of the recipients who sent any of these Message-IDs from the
    portal (the keystore's record; nobody by default)."""

    def is_internal(self, address: str) -> bool:
        """Tell whether an address belongs to an internal domain (see `addresses.is_internal`)."""
        return addresses.is_internal(address, self.internal_domains)


class Rule:
    """The shape of a rule module."""

    name: str
    description: str
    check: Callable[[MailMessage, Context], bool]
