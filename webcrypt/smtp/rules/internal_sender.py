"""Only mail from the company's own domains is ever encrypted.

This rule looks at the envelope only. Whether the SMTP client may have mail sealed at all,
and whether the From: header names the same mailbox, is checked before anything is sealed
(`webcrypt.smtp.admission.adviser_of`): a failure there refuses the message instead of letting
it pass.
"""

from __future__ import annotations

from webcrypt.mail.message import MailMessage
from webcrypt.smtp.rules.rulecontext import Context

name = "internal-sender"
description = "The envelope sender (MAIL FROM) belongs to an internal domain."


def check(message: MailMessage, context: Context) -> bool:
    """Tell whether the envelope sender is internal (the empty bounce sender is not)."""
    return bool(context.mail_from) and context.is_internal(context.mail_from)
