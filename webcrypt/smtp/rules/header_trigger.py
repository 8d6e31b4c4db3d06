"""Encrypt when the mail client or a transport rule marked the message confidential."""

from __future__ import annotations

from webcrypt.mail.message import MailMessage
from webcrypt.smtp.rules.rulecontext import Context

name = "header-trigger"
description = "The header X-WebCrypt: encrypt or Sensitivity: Company-Confidential is present."

_MARKERS = {"x-webcrypt": "encrypt", "sensitivity": "company-confidential"}


def check(message: MailMessage, context: Context) -> bool:
    """Tell whether one of the marker headers has its marker value."""
    return any(
        value.strip().lower() == wanted
        for header, wanted in _MARKERS.items()
        for value in message.get_all(header)
    )
