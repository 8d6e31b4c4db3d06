"""The customer's mobile number for PINs by SMS: shown, entered or removed by an admin."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from portal.admin import bp
from portal.admin.access import ALL_ROLES, record, require, services
from portal.admin.users import back_to_account
from webcrypt.sealing.sms import PHONE_AUDIT, masked_phone, normalize_phone


class PhoneForm(FlaskForm):
    """The mobile number (empty removes it)."""

    phone = StringField(_l("Mobile number"), validators=[Length(max=40)])


@bp.route("/users/<int:recipient_id>/phone", methods=["GET", "POST"])
@require(*ALL_ROLES)
def user_phone(recipient_id: int) -> ResponseReturnValue:
    """Show and change the number a PIN goes to when the PIN settings say sms."""
    form = PhoneForm()
    status = 200
    with services() as found:
        recipient = found.recipients.get_by_id(recipient_id)
        if recipient is None:
            abort(404)
        address = str(recipient.address)
        if form.validate_on_submit():
            text = (form.phone.data or "").strip()
            try:
                phone = normalize_phone(text) if text else None
            except ValueError:
                form.phone.errors = [
                    _("This is not an international phone number such as +49 176 12345678.")
                ]
                status = 400
            else:
                found.recipients.set_phone(recipient, phone)
                record(
                    found,
                    PHONE_AUDIT,
                    target=address,
                    detail=f"mobile number: {masked_phone(phone)}",
                )
                done = _(
                    "Mobile number for PINs of %(address)s: %(phone)s.",
                    address=address,
                    phone=phone or _("removed"),
                )
                return back_to_account(recipient_id, done)
        elif form.is_submitted():
            status = 400
        elif recipient.phone:
            form.phone.data = recipient.phone
    return render_template("admin/phone.html", form=form, address=address, id=recipient_id), status
