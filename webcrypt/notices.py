"""The notices the gateway mails itself, all built by `notice`.

Every notice has the same header set: From the product at a domain of ours (`system_sender`),
To, an encoded Subject, Date, Message-ID, ``Auto-Submitted: auto-generated`` (RFC 3834),
``Content-Language`` and ``X-WebCrypt-Notice`` naming the template; its body is the plain
text with an HTML alternative when the template has one. Templates are
``webcrypt/templates/mail/<name>.<lang>.txt`` (see `webcrypt.mail.rendering`); branding
(product name, contact, footer) comes from the admin settings. The envelope sender is null,
so that a notice can never start a bounce loop. No notice carries a message's content, and
only the PIN mails and the reset link carry a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.utils import formataddr
from typing import Any, TypedDict, Unpack

from keystore.languages import LANGUAGES
from keystore.models import LedgerEntry
from keystore.settings import Settings
from webcrypt.mail.compose import Outgoing, compose
from webcrypt.mail.dates import format_day, format_moment
from webcrypt.mail.message import domain_of
from webcrypt.mail.rendering import Rendered, language, render_mail
from webcrypt.sealing.pins import HELPDESK, PinDestination
from webcrypt.sealing.securehtm import portal_origin

NOTICE_HEADER = "X-WebCrypt-Notice"
"""The header field that names the kind of notice (the template's name)."""

BILINGUAL_RULE = "\n\n" + "-" * 60 + "\n\n"
"""What separates the languages of a notice written in both."""

RESET_EVENTS = (
    "password_changed",
    "wrong_answer",
    "closed",
    "requested_closed",
    "requested_no_answer",
)
"""What a reset notice can report (the template ``reset_notice`` has a text for each)."""


class Written(TypedDict):
    """What every notice is written with: the deployment's branding and the time it is dated."""

    settings: Settings
    now: datetime


class InLanguage(Written):
    """The same, and the reader's language (None when it is not known)."""

    lang: str | None


def system_sender(product_name: str, address: str) -> str:
    """Return the From header of notices: the product as postmaster of `address`'s domain."""
    domain = domain_of(address) or "localhost"
    return formataddr((product_name, f"postmaster@{domain}"))


def sending_address(created_by: str | None, internal_domains: Iterable[str]) -> str:
    """Return an address whose domain a notice about an account comes from.

    The adviser who created the account when one is on record (like the other notices
    about it), else the postmaster of the first internal domain.
    """
    adviser = str(created_by or "").strip()
    if "@" in adviser:
        return adviser
    first = next(iter(internal_domains), "localhost")
    return f"postmaster@{first}"


def notice(
    name: str,
    to: str,
    context: Mapping[str, Any],
    *,
    sent_for: str | None = None,
    settings: Settings,
    lang: str | None,
    now: datetime,
    bilingual: bool = False,
) -> Outgoing:
    """Render the template `name` with `context` in `lang` (else the default language) for `to`.

    `sent_for` is an address whose domain the notice comes from (the adviser's); it defaults to
    `to`, the adviser, for the notices to advisers. With `bilingual` and no `lang` (the
    reader's language is unknown), the notice is written in every language, the default first.
    """
    chosen = language(lang, settings.default_language)
    written = [chosen]
    if bilingual and lang is None:  # nobody knows the reader's language: both, default first
        written += [other for other in LANGUAGES if other != chosen]
    renderings = [_render(name, each, context, settings) for each in written]
    data = compose(
        sender=system_sender(settings.product_name, to if sent_for is None else sent_for),
        to=to,
        subject=" / ".join(r.subject for r in renderings),
        text=BILINGUAL_RULE.join(r.text.rstrip("\n") for r in renderings) + "\n",
        html=renderings[0].html if len(renderings) == 1 else None,
        headers=[
            ("Auto-Submitted", "auto-generated"),
            ("Content-Language", ", ".join(written)),
            (NOTICE_HEADER, name),
        ],
        now=now,
    )
    return Outgoing(data=data, mail_from="", rcpt_tos=(to,), kind=name, crlf_only=True)


def _render(name: str, lang: str, context: Mapping[str, Any], settings: Settings) -> Rendered:
    """Render the notice template `name` in `lang` with the branding of `settings`."""

    def day(moment: datetime) -> str:
        return format_day(moment, lang)

    def moment(value: datetime) -> str:
        return format_moment(value, lang)

    return render_mail(
        "mail",
        name,
        lang,
        product_name=settings.product_name,
        contact=settings.contact(lang),
        footer=settings.footer(lang),
        day=day,
        moment=moment,
        **context,
    )


def pin_mail(
    *,
    adviser: str,
    recipient: str,
    pin: str,
    portal_url: str,
    helpdesk: bool = False,
    sent_for: str | None = None,
    **written: Unpack[InLanguage],
) -> Outgoing:
    """Give the adviser (or the helpdesk) a new recipient's one-time PIN (first contact).

    It also gives the adviser what to tell the customer against forged pages: the portal's
    address (the only page for the password) and that it shows their security phrase. With
    no `lang` it is written in both languages.
    """
    context = {
        "recipient": recipient,
        "pin": pin,
        "portal_url": portal_url,
        "origin": portal_origin(portal_url),
        "helpdesk": helpdesk,
    }
    return notice("pin", adviser, context, sent_for=sent_for, bilingual=True, **written)


def first_pin_notice(
    destination: PinDestination,
    *,
    recipient: str,
    adviser: str,
    pin: str,
    portal_url: str,
    **written: Unpack[Written],
) -> Outgoing:
    """Build the mail with a new account's first PIN for its `destination` (`pin_destination`).

    To the adviser or the helpdesk in both languages; to the recipient in the default one.
    """
    if destination.to_recipient:
        lang = written["settings"].default_language
        return pin_recipient_mail(
            recipient=recipient,
            sent_for=adviser,
            pin=pin,
            portal_url=portal_url,
            lang=lang,
            **written,
        )
    return pin_mail(
        adviser=destination.address,
        recipient=recipient,
        pin=pin,
        portal_url=portal_url,
        helpdesk=destination.role == HELPDESK,
        sent_for=adviser,
        lang=None,
        **written,
    )


def pin_recipient_mail(
    *, recipient: str, sent_for: str, pin: str, portal_url: str, **written: Unpack[InLanguage]
) -> Outgoing:
    """Send a new recipient's first one-time PIN straight to them (when the settings say so)."""
    context = {"recipient": recipient, "pin": pin, "portal_url": portal_url}
    return notice("pin_recipient", recipient, context, sent_for=sent_for, **written)


def access_reset_mail(
    *,
    recipient: str,
    sent_for: str,
    pin_from: str,
    pin_role: str,
    portal_url: str,
    **written: Unpack[InLanguage],
) -> Outgoing:
    """Tell the customer that an admin reset their access and who will give them the new PIN.

    It carries no PIN: `pin_from` (the adviser's or the helpdesk's address, `pin_role`) has it.
    """
    context = {
        "recipient": recipient,
        "pin_from": pin_from,
        "pin_role": pin_role,
        "portal_url": portal_url,
    }
    return notice("access_reset", recipient, context, sent_for=sent_for, **written)


def pin_reset_mail(
    *,
    to: str,
    to_recipient: bool,
    recipient: str,
    sent_for: str,
    pin: str,
    portal_url: str,
    **written: Unpack[InLanguage],
) -> Outgoing:
    """Send the new one-time PIN after an admin reset, to the recipient or to the adviser.

    To the adviser (or helpdesk) with no `lang`, it is written in both languages.
    """
    name = "pin_reset_recipient" if to_recipient else "pin_reset"
    context = {"recipient": recipient, "pin": pin, "portal_url": portal_url}
    return notice(name, to, context, sent_for=sent_for, bilingual=not to_recipient, **written)


def deactivated_notice(
    *, adviser: str, recipient: str, subject: str, others: bool, **written: Unpack[InLanguage]
) -> Outgoing:
    """Tell the adviser, bounce-style, that a recipient's account is deactivated."""
    context = {"recipient": recipient, "subject": subject, "other_recipients": others}
    return notice("deactivated", adviser, context, **written)


def mailbox_full_notice(
    *,
    adviser: str,
    recipient: str,
    subject: str,
    used: int,
    limit: int,
    **written: Unpack[InLanguage],
) -> Outgoing:
    """Tell the adviser that a message went as attachment: the recipient's mailbox is full."""
    context = {
        "recipient": recipient,
        "subject": subject,
        "used_mb": round(used / (1024 * 1024), 1),
        "limit_mb": round(limit / (1024 * 1024), 1),
    }
    return notice("mailbox_full", adviser, context, **written)


def unread_mail(entry: LedgerEntry, *, recipient: str, **written: Unpack[Written]) -> Outgoing:
    """Tell the adviser who sealed `entry` that the message is still unopened."""
    return _to_its_adviser("unread", entry, recipient, written, expires=entry.expires_at)


def receipt_mail(
    entry: LedgerEntry, *, recipient: str, opened: datetime, **written: Unpack[Written]
) -> Outgoing:
    """Tell the adviser who sealed `entry` that the recipient first opened it at `opened`."""
    return _to_its_adviser("receipt", entry, recipient, written, opened=opened)


def _to_its_adviser(
    name: str, entry: LedgerEntry, recipient: str, written: Written, **moment: datetime
) -> Outgoing:
    """Build the notice `name` about one sealed message to its adviser, in the default language."""
    context = {
        "recipient": recipient,
        "message_id": entry.message_id,
        "sent": entry.created_at,
        **moment,
    }
    lang = written["settings"].default_language
    return notice(name, entry.sender, context, lang=lang, **written)


def expiry_mail(
    entry: LedgerEntry,
    *,
    recipient: str,
    portal_url: str,
    inbox_link: str = "",
    **written: Unpack[InLanguage],
) -> Outgoing:
    """Tell the recipient that the message of `entry` expires soon: open it and save it locally.

    `inbox_link` is the message's address in the secure mailbox, when it is stored there.
    """
    context = {
        "recipient": recipient,
        "adviser": entry.sender,
        "sent": entry.created_at,
        "expires": entry.expires_at,
        "opened": entry.first_opened_at is not None,
        "portal_url": portal_url,
        "inbox_link": inbox_link,
    }
    return notice("expiry", recipient, context, sent_for=entry.sender, **written)


def inactivity_mail(
    *,
    recipient: str,
    sent_for: str,
    last_used: datetime,
    deletion: datetime,
    portal_url: str,
    **written: Unpack[InLanguage],
) -> Outgoing:
    """Tell the recipient that the unused account will be deleted unless they log in."""
    context = {
        "recipient": recipient,
        "last_used": last_used,
        "deletion": deletion,
        "portal_url": portal_url,
        "months": round(written["settings"].inactivity_days / 30.4),
    }
    return notice("inactivity", recipient, context, sent_for=sent_for, **written)


def withdraw_offer_mail(
    *,
    adviser: str,
    recipients: Sequence[str],
    message_id: str,
    sent: datetime,
    expires: datetime,
    link: str,
    **written: Unpack[Written],
) -> Outgoing:
    """Confirm a sent message to the adviser, with the link that withdraws it."""
    context = {
        "recipients": list(recipients),
        "message_id": message_id,
        "sent": sent,
        "expires": expires,
        "link": link,
    }
    lang = written["settings"].default_language
    return notice("withdraw", adviser, context, lang=lang, **written)


def reset_link_mail(
    *, recipient: str, sent_for: str, link: str, **written: Unpack[InLanguage]
) -> Outgoing:
    """Send the one-time link of a password reset to the account's own address."""
    context = {
        "recipient": recipient,
        "when": written["now"],
        "link": link,
        "minutes": written["settings"].reset_link_minutes,
    }
    return notice("reset_link", recipient, context, sent_for=sent_for, **written)


def reset_notice_mail(
    *, recipient: str, event: str, left: int, sent_for: str, **written: Unpack[InLanguage]
) -> Outgoing:
    """Tell the account's own address about one step of a password reset (`RESET_EVENTS`)."""
    if event not in RESET_EVENTS:
        raise ValueError(f"unknown reset event {event!r}; use one of {', '.join(RESET_EVENTS)}")
    context = {"recipient": recipient, "when": written["now"], "event": event, "left": left}
    return notice("reset_notice", recipient, context, sent_for=sent_for, **written)
