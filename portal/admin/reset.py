"""Resetting a recipient's password: the new one-time PIN is mailed first and saved after.

On SQLite every keystore session holds the database's write lock, and the relay may take
up to its timeout to answer, so the mail must not go out inside a session. The order is:

1. a short session (the caller's) loads the account and checks there is someone to mail;
2. with no session open, a PIN is drawn and hashed, and the mail is handed to the relay —
   when the relay refuses, nothing has changed and the old password stays valid;
3. a second short session saves the PIN's hash (password cleared, lock lifted) together
   with the audit event.

The other orders are worse. Saving first and mailing after would leave an account whose
password is gone and whose PIN nobody knows whenever the relay refuses (or the process
stops in between). Mailing first, the worst case is a mail whose PIN never worked: when
the save fails, the account stays as it was and the admin is told that the mailed PIN is
void, so whoever got it can be told to ignore it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from keystore.errors import KeystoreError
from keystore.passwords import new_pin
from portal.admin.access import Services, record, services
from portal.admin.pinmail import PinMail, build_pin_mail
from portal.admin.words import pin_holder
from portal.context import now, runtime
from webcrypt.sealing.sms import SmsError
from webcrypt.smtp.relay import RelayError

log = logging.getLogger(__name__)


def reset_password(
    recipient: Any,
    *,
    title: str,
    audit: str,
    settings: Any,
    internal_domains: tuple[str, ...],
) -> ResponseReturnValue:
    """Mail a new PIN for `recipient` (loaded in a closed session), then save it.

    Call it with no keystore session open; the caller checked there is a destination.
    """
    recipient_id, address = int(recipient.id), str(recipient.address)
    back = redirect(url_for("admin.user", recipient_id=recipient_id))
    pin, pin_hash = new_pin(runtime().keystore.hasher)
    mail = build_pin_mail(
        recipient=recipient,
        pin=pin,
        settings=settings,
        portal_url=str(runtime().config.portal.public_url),
        internal_domains=internal_domains,
        now=now(),
    )
    try:
        _send_pin(mail)
    except (RelayError, SmsError) as exc:
        log.warning("PIN for %s not sent: %s", address, exc)
        flash(
            _(
                "The new PIN could not be sent, so nothing was changed (%(error)s). "
                "Try again later.",
                error=exc,
            ),
            "error",
        )
        return back
    how = "sent by SMS" if mail.sms_text else "mailed"
    detail = f"New PIN {how} to the {mail.delivery} ({mail.shown_to})."
    holder = f"{pin_holder(mail.delivery)} ({mail.shown_to})"
    try:
        with services() as found:
            saved = _save_pin(found, recipient_id, pin_hash)
            if saved:
                record(found, audit, target=address, detail=detail)
    except KeystoreError as exc:
        log.warning("PIN for %s mailed but not saved: %s", address, exc)
        flash(
            _(
                "The new PIN went out to %(holder)s, but the reset could not be saved, so "
                "the PIN in that mail is void and the old password still works. Tell them "
                "to ignore that mail, and try again later.",
                holder=holder,
            ),
            "error",
        )
        return back
    if not saved:
        flash(
            _(
                "%(address)s was deleted while the mail with the new PIN went out to "
                "%(holder)s; the PIN in that mail is void.",
                address=address,
                holder=holder,
            ),
            "error",
        )
        return redirect(url_for("admin.users"))
    done = [
        _("%(action)s: done for %(address)s.", action=title, address=address),
        _("New PIN sent by SMS to %(holder)s.", holder=holder)
        if mail.sms_text
        else _("New PIN mailed to %(holder)s.", holder=holder),
    ]
    if mail.customer_notice is not None:
        done.append(_tell_customer(mail))
    flash(" ".join(done), "success")
    return back


def _send_pin(mail: PinMail) -> None:
    """Hand the PIN to the relay or the SMS gateway; raise RelayError or SmsError."""
    if mail.sms_text:
        gateway = runtime().sms_gateway()
        if gateway is None:
            raise SmsError("no SMS gateway is configured")
        gateway.send(mail.to, mail.sms_text)
        return
    runtime().relay_for("portal").send(mail.data, mail_from=mail.mail_from, rcpt_tos=[mail.to])


def _tell_customer(mail: PinMail) -> str:
    """Mail the customer that their access was reset and who has the PIN; say how it went."""
    assert mail.customer_notice is not None
    try:
        runtime().relay_for("portal").send(
            mail.customer_notice, mail_from="", rcpt_tos=[mail.customer]
        )
    except RelayError as exc:
        log.warning("reset notice for %s not sent: %s", mail.customer, exc)
        return _(
            "The mail telling %(customer)s could not be sent (%(error)s): tell them yourself.",
            customer=mail.customer,
            error=exc,
        )
    return _(
        "%(customer)s was told by mail (without the PIN) who will give them the PIN.",
        customer=mail.customer,
    )


def _save_pin(found: Services, recipient_id: int, pin_hash: str) -> bool:
    """Install a mailed PIN: password cleared, lock lifted; False when the account is gone."""
    recipient = found.recipients.get_by_id(recipient_id)
    if recipient is None:
        return False
    found.recipients.install_pin(recipient, pin_hash)
    return True
