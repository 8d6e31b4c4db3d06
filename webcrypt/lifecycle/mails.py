"""The notice mails of the message and account lifecycle, from templates in English and German.

Templates are ``webcrypt/templates/mail/<name>.<lang>.txt`` (first line the subject), rendered
with the generic helpers of `webcrypt.mail.compose`; branding (product name, contact, footer) comes
from the admin settings. No mail ever carries a message's subject or content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from keystore.settings import Settings
from webcrypt.mail.compose import Outgoing, compose, language, render_mail, system_sender
from webcrypt.mail.dates import format_day, format_moment


def notice_mail(
    name: str,
    *,
    to: str,
    domain_of: str,
    settings: Settings,
    lang: str | None,
    now: datetime,
    context: Mapping[str, object],
) -> Outgoing:
    """Render the template `name` for `to` and build the mail.

    `domain_of` is an address whose domain the gateway sends from (the adviser's); the
    mail has a null envelope sender so that it can never start a bounce loop.
    """
    chosen = language(lang, settings.default_language)

    def day(moment: datetime) -> str:
        return format_day(moment, chosen)

    def moment(value: datetime) -> str:
        return format_moment(value, chosen)

    rendered = render_mail(
        "mail",
        name,
        chosen,
        product_name=settings.product_name,
        contact=settings.contact(chosen),
        footer=settings.footer(chosen),
        day=day,
        moment=moment,
        **context,
    )
    data = compose(
        sender=system_sender(settings.product_name, domain_of),
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=[("Auto-Submitted", "auto-generated"), ("X-WebCrypt-Notice", name)],
        now=now,
    )
    return Outgoing(data=data, mail_from="", rcpt_tos=(to,), kind=name)


def unread_mail(
    *,
    adviser: str,
    recipient: str,
    message_id: str,
    sent: datetime,
    expires: datetime,
    settings: Settings,
    now: datetime,
) -> Outgoing:
    """Tell the adviser that a message is still unopened."""
    return notice_mail(
        "unread",
        to=adviser,
        domain_of=adviser,
        settings=settings,
        lang=settings.default_language,
        now=now,
        context={
            "recipient": recipient,
            "message_id": message_id,
            "sent": sent,
            "expires": expires,
        },
    )


def receipt_mail(
    *,
    adviser: str,
    recipient: str,
    message_id: str,
    sent: datetime,
    opened: datetime,
    settings: Settings,
    now: datetime,
) -> Outgoing:
    """Tell the adviser that the recipient opened a message for the first time."""
    return notice_mail(
        "receipt",
        to=adviser,
        domain_of=adviser,
        settings=settings,
        lang=settings.default_language,
        now=now,
        context={"recipient": recipient, "message_id": message_id, "sent": sent, "opened": opened},
    )


def expiry_mail(
    *,
    recipient: str,
    adviser: str,
    sent: datetime,
    expires: datetime,
    opened: bool,
    portal_url: str,
    settings: Settings,
    lang: str | None,
    now: datetime,
) -> Outgoing:
    """Tell the recipient that a message expires soon: open it and save it locally."""
    return notice_mail(
        "expiry",
        to=recipient,
        domain_of=adviser,
        settings=settings,
        lang=lang,
        now=now,
        context={
            "recipient": recipient,
            "adviser": adviser,
            "sent": sent,
            "expires": expires,
            "opened": opened,
            "portal_url": portal_url,
        },
    )


def inactivity_mail(
    *,
    recipient: str,
    domain_of: str,
    last_used: datetime,
    deletion: datetime,
    portal_url: str,
    settings: Settings,
    lang: str | None,
    now: datetime,
) -> Outgoing:
    """Tell the recipient that the unused account will be deleted unless they log in."""
    return notice_mail(
        "inactivity",
        to=recipient,
        domain_of=domain_of,
        settings=settings,
        lang=lang,
        now=now,
        context={
            "recipient": recipient,
            "last_used": last_used,
            "deletion": deletion,
            "portal_url": portal_url,
            "months": round(settings.inactivity_days / 30.4),
        },
    )


def withdraw_offer_mail(
    *,
    adviser: str,
    recipients: Sequence[str],
    message_id: str,
    sent: datetime,
    expires: datetime,
    link: str,
    settings: Settings,
    now: datetime,
) -> Outgoing:
    """Confirm a sent message to the adviser, with the link that withdraws it."""
    return notice_mail(
        "withdraw",
        to=adviser,
        domain_of=adviser,
        settings=settings,
        lang=settings.default_language,
        now=now,
        context={
            "recipients": list(recipients),
            "message_id": message_id,
            "sent": sent,
            "expires": expires,
            "link": link,
        },
    )
