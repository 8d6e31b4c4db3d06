"""Encrypt when a recipient is written ``addr@domain#secure`` (envelope or To/Cc)."""

from __future__ import annotations

from webcrypt.mail.message import SECURE_SUFFIX, MailMessage, has_secure_suffix
from webcrypt.smtp.rules.rulecontext import Context

name = "secure-suffix"
description = "A recipient address ends in #secure, in RCPT TO or in the To/Cc headers."


def check(message: MailMessage, context: Context) -> bool:
    """Tell whether any envelope or header recipient carries the suffix."""
    if any(has_secure_suffix(a) for a in context.rcpt_tos):
        return True
    # Parsing the address lists is the costly part: only when the suffix is written at all.
    return SECURE_SUFFIX.encode() in message.header_block.lower() and any(
        has_secure_suffix(a) for a in message.header_recipients
    )
