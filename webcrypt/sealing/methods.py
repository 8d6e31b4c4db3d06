"""How a sealed message reaches its recipient: the one place that decides it.

Three methods: ``attachment`` (the carrier mail with secure.htm), ``mailbox`` (the envelope is
stored in the recipient's secure mailbox on the portal and the recipient gets a notification
with a link) and ``both`` (the carrier, with a link to the same stored envelope as well).

The most specific rule wins:

1. the adviser's header ``X-WebCrypt-Delivery`` on this message (removed before sealing);
2. the recipient's own choice, stored on the account (the customer in the profile, or an
   admin on the user page);
3. the recipient's domain in the admin settings ``mailbox_domains`` or ``both_domains``;
4. the deployment default, ``[mailbox] default_method`` in the configuration file.

Independently of the method, a domain in ``attachment_domains`` gets its attachment as a
neutral file (``secure-message.dat``) instead of ``secure.htm``: that setting describes the
attachment's form, for mail systems that strip ``.htm`` files. Such domains are better
served by ``mailbox``; the setting keeps its meaning so that no recipient's mail changes
unasked on upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass

from keystore.mailbox import METHODS
from keystore.settings import Settings

ATTACHMENT, MAILBOX, BOTH = METHODS
HEADER = "X-WebCrypt-Delivery"
"""The header an adviser sets to force a method for one message (the filter removes it)."""

HEADER_RULE, ACCOUNT_RULE, DOMAIN_RULE, DEFAULT_RULE = "header", "account", "domain", "default"


@dataclass(frozen=True)
class Method:
    """The method for one recipient, the rule that chose it, and the attachment's form."""

    method: str
    rule: str
    neutral: bool = False

    @property
    def stores(self) -> bool:
        """Tell whether the envelope goes into the secure mailbox."""
        return self.method in (MAILBOX, BOTH)

    @property
    def attaches(self) -> bool:
        """Tell whether the carrier mail with the attachment goes out."""
        return self.method in (ATTACHMENT, BOTH)


def requested(value: str) -> str | None:
    """The method an ``X-WebCrypt-Delivery`` value asks for (None when empty or unknown)."""
    word = value.strip().lower()
    return word if word in METHODS else None


def delivery_method(
    *,
    domain: str,
    settings: Settings,
    default: str,
    account_choice: str | None = None,
    header: str | None = None,
) -> Method:
    """Return how one recipient gets one message (see the module docstring for the order).

    `domain` is the recipient's lower-case domain, `default` the configured default method,
    `account_choice` the method stored on the account (None: no choice), `header` the
    method the adviser asked for with `requested` (None: none).
    """
    neutral = domain in settings.attachment_domains
    if header in METHODS:
        return Method(str(header), HEADER_RULE, neutral)
    if account_choice in METHODS:
        return Method(str(account_choice), ACCOUNT_RULE, neutral)
    if domain in settings.mailbox_domains:
        return Method(MAILBOX, DOMAIN_RULE, neutral)
    if domain in settings.both_domains:
        return Method(BOTH, DOMAIN_RULE, neutral)
    if default not in METHODS:
        raise ValueError(f"unknown delivery method {default!r}; use one of {', '.join(METHODS)}")
    return Method(default, DEFAULT_RULE, neutral)
