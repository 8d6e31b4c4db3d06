"""Encrypt an adviser's answer to a mail that the customer sent from the portal.

A customer's reply (or new message) from the portal is recorded by its Message-ID. When an
adviser answers it, the answer's In-Reply-To or References names that Message-ID, and the
customer is among its recipients: the answer is sealed as if it carried the trigger word,
so advisers need not remember ``#secure`` in a thread that started secure. The admin
setting ``thread_trigger`` switches it off.
"""

from __future__ import annotations

import re

from keystore.addresses import normalize_address
from webcrypt.mail.message import MailMessage
from webcrypt.smtp.rules.rulecontext import Context

name = "thread-trigger"
description = (
    "The mail answers a mail that one of its external recipients sent from the portal "
    "(its In-Reply-To or References names it)."
)

_MESSAGE_ID = re.compile(r"<([^<>\s]{1,255})>")
MAX_REFERENCES = 50
"""The newest Message-IDs of a long References field that are looked up."""


def referenced_ids(message: MailMessage) -> list[str]:
    """Return the Message-IDs the message answers: In-Reply-To first, then References."""
    found: list[str] = []
    for header in ("In-Reply-To", "References"):
        for value in message.get_all(header):
            found += _MESSAGE_ID.findall(value)
    in_reply_to = found[:1]
    newest = found[-MAX_REFERENCES:]
    return list(dict.fromkeys(in_reply_to + newest))


def _external_recipients(context: Context) -> set[str]:
    found = set()
    for rcpt in context.rcpt_tos:
        if context.is_internal(rcpt):
            continue
        try:
            found.add(normalize_address(rcpt))
        except ValueError:
            continue
    return found


def check(message: MailMessage, context: Context) -> bool:
    """Tell whether the mail answers a portal mail of one of its external recipients."""
    if not context.thread_trigger:
        return False
    ids = referenced_ids(message)
    if not ids:
        return False
    external = _external_recipients(context)
    if not external:
        return False
    return bool(context.portal_senders(ids) & external)
