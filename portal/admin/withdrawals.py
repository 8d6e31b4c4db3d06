"""Withdrawing a sealed message by its Message-ID: the portal refuses to open it afterwards."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.admin import bp
from portal.admin.access import Page, current, record, require, services
from portal.admin.forms import WithdrawForm


@bp.route("/messages/withdraw", methods=["GET", "POST"])
@require("admin")
def withdraw() -> ResponseReturnValue:
    """Look a message up (first step) and withdraw it after confirmation (second step)."""
    form = WithdrawForm(message_id=request.args.get("message_id", ""))
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("admin/withdraw.html", form=form, entries=None), status
    message_id = form.normalized()
    with services() as found:
        entries = found.ledger.find(message_id)
        if not entries:
            form.message_id.errors = [
                _(
                    "No sealed message with this ID is in the ledger (expired messages are "
                    "removed after the retention period)."
                )
            ]
            page = Page("admin/withdraw.html", 404, form=form, entries=None)
        elif request.form.get("confirm") != "yes":
            recipients = {
                entry.recipient_id: found.recipients.get_by_id(entry.recipient_id)
                for entry in entries
            }
            page = Page("admin/withdraw.html", form=form, entries=entries, recipients=recipients)
        else:
            count = found.ledger.revoke(message_id, by=current().email)
            record(found, "message.withdraw", target=message_id, detail=f"{count} recipient(s)")
            page = None
    if page is not None:
        return page.render()
    if count:
        flash(_("The message is withdrawn for %(num)d recipient(s).", num=count), "success")
    else:
        flash(_("The message had been withdrawn already."), "success")
    return redirect(url_for("admin.withdraw"))
