"""The login page (password or PIN), which every page that needs a login falls back to,
and the envelope that it and the reading pages carry along in their forms."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import escape

from portal.forms import LoginForm, PinLoginForm
from portal.identity import session_ended
from portal.phrases import login_origin, phrase_for
from portal.stored import stored_envelope


def carried_envelope() -> str:
    """Return the ciphertext carried through this form, if any.

    A secure.htm's envelope is carried itself (and never stored); a message of the secure
    mailbox is carried by its entry id and read from the logged-in customer's mailbox.
    """
    text = request.form.get("envelope", "").strip()
    if text or "entry" not in request.form:
        return text
    return stored_envelope(request.form["entry"])


def render_carrying(template: str, envelope: str, **context: Any) -> Response:
    """Render `template` with the carried `envelope` in it, without copying it through Jinja.

    An envelope is megabytes: escaping and joining it in the template, then encoding the
    page, costs more than the rest of the page. The page is rendered around a slot no
    message can guess, and the envelope (escaped only if it needs it, which armored text
    never does) is sent between the pieces, encoded once.
    """
    if not envelope:
        return Response(render_template(template, envelope="", **context), mimetype="text/html")
    slot = f"envelope-{secrets.token_hex(16)}"
    pieces = render_template(template, envelope=slot, **context).split(slot)
    if any(special in envelope for special in "&<>\"'"):
        envelope = str(escape(envelope))
    data = envelope.encode()
    chunks = [pieces[0].encode()]
    for piece in pieces[1:]:
        chunks += [data, piece.encode()]
    return Response(chunks, mimetype="text/html")


def login_page(
    *,
    envelope: str = "",
    email: str = "",
    failure: str = "",
    pin: bool = False,
    status: int = 200,
    form: Any = None,
) -> ResponseReturnValue:
    """Render the login page (password or PIN), carrying `envelope` along.

    With an address known, the password page shows that address's security phrase;
    without one, it asks for the address first.
    """
    if form is None:
        form = PinLoginForm() if pin else LoginForm()
    if email and not form.email.data:
        form.email.data = email
    address = (form.email.data or "").strip()
    phrase = "" if pin or not address or form.email.errors else phrase_for(address)
    if phrase:
        form.email.render_kw = {"readonly": True}
    note = _("Your session has ended. Please log in again.") if session_ended() else ""
    template = "auth/login_pin.html" if pin else "auth/login.html"
    return render_carrying(
        template,
        envelope,
        form=form,
        failure=failure,
        note=note,
        phrase=phrase,
        origin=login_origin(),
    ), status
