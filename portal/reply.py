"""Replying securely, and writing to an adviser known from earlier messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # newer than stubs

from portal import metrics
from portal.context import is_internal, now, runtime, services, settings
from portal.errors import error_page
from portal.extensions import limited
from portal.forms import ReplyForm, WriteForm
from portal.identity import current_recipient
from portal.loginpage import carried_envelope, login_page, render_carrying
from portal.mimeview import MessageView, build_view
from portal.outgoing import (
    Upload,
    build_message,
    ensure_trigger,
    known_advisers,
    message_id_domain,
    quote_text,
    reply_recipients,
    reply_subject,
)
from portal.reading import Opened, Refusal, open_envelope
from webcrypt.smtp.relay import RelayError

bp = Blueprint("reply", __name__)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Carried:
    """The message a reply answers, opened from the envelope the form carries."""

    text: str
    opened: Opened
    view: MessageView

    def recipients(self, reply_all: bool) -> list[str]:
        """Return who the reply goes to (never anyone named in the form)."""
        return reply_recipients(
            str(self.opened.header.sender),
            self.view,
            self.opened.address,
            reply_all=reply_all,
            is_internal=is_internal,
        )


def _carried_message() -> Carried | ResponseReturnValue:
    """Open the carried envelope, or return the page that says why not."""
    text = carried_envelope()
    if not text:
        return redirect(url_for("reader.index"))
    try:
        opened = open_envelope(text, first_reading=False)
    except Refusal as refusal:
        return refusal.response
    return Carried(text, opened, build_view(opened.raw))


def _no_reply_possible() -> tuple[str, int]:

    return error_page(
        403,
        _("A reply is not possible"),
        _(
            "The sender of this message is not an address of the company, so the portal "
            "cannot send a reply. Please contact the company the usual way."
        ),
    )


@bp.route("/reply", methods=["POST"])
def compose() -> ResponseReturnValue:
    """Show the reply form for the carried message."""
    carried = _carried_message()
    if not isinstance(carried, Carried):
        return carried
    reply_all = request.form.get("mode") == "all" or request.form.get("reply_all") == "y"
    recipients = carried.recipients(reply_all)
    if not recipients:
        return _no_reply_possible()
    form = ReplyForm(formdata=None, body=quote_text(carried.view), reply_all=reply_all)
    return render_carrying(
        "reply/compose.html",
        carried.text,
        form=form,
        view=carried.view,
        recipients=recipients,
        choices=_choices(carried),
    )


def _choices(carried: Carried) -> tuple[list[str], list[str]] | None:
    """Who "reply" and "reply to all" would write to; None when both are the same."""
    only, everyone = carried.recipients(False), carried.recipients(True)
    return (only, everyone) if everyone != only else None


def _uploads(files: list[Any]) -> list[Upload]:
    return [
        Upload(f.filename or "", f.mimetype or "", f.read())
        for f in files
        if getattr(f, "filename", "")
    ]


def _too_large(body: str, uploads: list[Upload]) -> bool:
    size = len(body.encode("utf-8")) + sum(len(upload.data) for upload in uploads)
    # Attachments grow by a third in base64; the limit is for the mail as it travels.
    return size * 4 // 3 > int(settings().max_message_size)


def _send(message: Any, sender: str, recipients: list[str], action: str) -> str | None:
    """Relay `message`; return a user-facing reason when it failed."""

    try:
        runtime().relay_for("portal").send(
            message.as_bytes(), mail_from=sender, rcpt_tos=recipients
        )
    except RelayError as error:
        log.warning("portal %s from %s not relayed: %s", action, sender, error)
        return _("The message could not be sent right now. Please try again in a few minutes.")
    with services() as found:
        account = found.recipients.get(sender)
        if account is not None:  # so that the adviser's answer is sealed (the thread rule)
            found.ledger.record_portal_message(str(message["Message-ID"]), int(account.id))
        found.audit.record(
            f"portal.{action}",
            actor=sender,
            target=", ".join(recipients),
            ip=request.remote_addr or "",
        )
    return None


@bp.route("/reply/send", methods=["POST"])
@limited("send", counts=metrics.reply)
def send() -> ResponseReturnValue:
    """Send the reply to the addresses taken from the message itself."""
    carried = _carried_message()
    if not isinstance(carried, Carried):
        return carried
    text, opened, view = carried.text, carried.opened, carried.view
    form = ReplyForm()
    recipients = carried.recipients(bool(form.reply_all.data))
    if not recipients:
        metrics.reply("failed")
        return _no_reply_possible()
    failure = ""
    uploads = _uploads(form.attachments.data or []) if form.validate_on_submit() else []
    if not form.errors and _too_large(form.body.data or "", uploads):
        failure = _("The message with its attachments is too large.")
    if not form.errors and not failure:
        message = build_message(
            sender=opened.address,
            recipients=recipients,
            subject=reply_subject(view.subject, settings().trigger_word),
            body=form.body.data or "",
            uploads=uploads,
            now=now(),
            domain=message_id_domain(current_app.config["PUBLIC_URL"]),
            in_reply_to=view.message_id,
            references=view.references,
        )
        failure = _send(message, opened.address, recipients, "reply") or ""
        if not failure:
            metrics.reply("sent")
            return render_carrying("reply/sent.html", text, recipients=recipients)
    metrics.reply("failed")
    status = 400 if form.errors or failure else 200
    return render_carrying(
        "reply/compose.html",
        text,
        form=form,
        view=view,
        recipients=recipients,
        choices=_choices(carried),
        failure=failure,
    ), status


@bp.route("/write", methods=["GET", "POST"])
@limited("send", counts=metrics.reply)
def write() -> ResponseReturnValue:
    """Write a new secure message to an adviser who has sent this recipient a message."""
    with services() as found:
        recipient = current_recipient(found)
        if recipient is not None:
            entries = found.ledger.for_recipient(int(recipient.id))
    if recipient is None:
        return login_page()
    address = str(recipient.address)
    advisers = known_advisers(entries, is_internal)
    form = WriteForm()
    form.to.choices = [SelectChoice(adviser, adviser) for adviser in advisers]
    if not advisers:
        return render_template("reply/write.html", form=None)
    if request.method == "GET":
        return render_template("reply/write.html", form=form)
    if not form.validate_on_submit():
        metrics.reply("failed")
        return render_template("reply/write.html", form=form), 400
    uploads = _uploads(form.attachments.data or [])
    if _too_large(form.body.data or "", uploads):
        metrics.reply("failed")
        failure = _("The message with its attachments is too large.")
        return render_template("reply/write.html", form=form, failure=failure), 400
    recipients = [form.to.data]
    message = build_message(
        sender=address,
        recipients=recipients,
        subject=ensure_trigger(form.subject.data or "", settings().trigger_word),
        body=form.body.data or "",
        uploads=uploads,
        now=now(),
        domain=message_id_domain(current_app.config["PUBLIC_URL"]),
    )
    relay_failure = _send(message, address, recipients, "message")
    metrics.reply("failed" if relay_failure else "sent")
    if relay_failure:
        return render_template("reply/write.html", form=form, failure=relay_failure), 503
    return render_template("reply/sent.html", recipients=recipients, envelope="")
