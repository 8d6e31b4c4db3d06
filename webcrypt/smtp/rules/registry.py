"""The rules by name, and which of them ask for encryption."""

from __future__ import annotations

from types import ModuleType
from typing import cast

from webcrypt.mail.message import MailMessage
from webcrypt.smtp.rules import (
    header_trigger,
    internal_sender,
    secure_suffix,
    subject_trigger,
    thread_trigger,
)
from webcrypt.smtp.rules.rulecontext import Context, Rule

_MODULES: tuple[ModuleType, ...] = (
    subject_trigger,
    secure_suffix,
    header_trigger,
    thread_trigger,
    internal_sender,
)
RULES: dict[str, Rule] = {module.name: cast(Rule, module) for module in _MODULES}
TRIGGERS: tuple[str, ...] = ("subject-trigger", "secure-suffix", "header-trigger", "thread-trigger")
"""In this order: the thread rule, which may ask the keystore, comes last."""


def matching_triggers(message: MailMessage, context: Context) -> list[str]:
    """Return the names of the trigger rules that match.

    The thread rule is asked only when no other trigger matched: it may cost a query.
    """
    found = [name for name in TRIGGERS[:-1] if RULES[name].check(message, context)]
    if not found and RULES["thread-trigger"].check(message, context):
        found.append("thread-trigger")
    return found
