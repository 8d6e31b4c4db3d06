"""Opening and reading: the cross-site post from secure.htm, the upload page, downloads.

The ciphertext is never stored: every page that needs it again (login, read, download,
reply) carries it in a hidden form field and the browser sends it back.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.validators import InputRequired

from keystore.languages import LANGUAGES
from portal.auth import logged_in_address
from portal.extensions import LANGUAGE_KEY, csrf_exempt, limited
from portal.loginpage import carried_envelope, login_page, render_carrying
from portal.mimeview import clean_type, find_attachment, message_subject, safe_filename
from portal.parking import take_parked
from portal.reading import (
    Refusal,
    check_limits,
    open_envelope,
    parse_envelope,
    problem,
    remember_envelope,
    show_message,
)
from portal.security import DOWNLOAD_POLICY, use_policy
from webcrypt.envelope import EnvelopeFormatError
from webcrypt.sealing.securehtm import read_envelope

bp = Blueprint("reader", __name__)


class UploadForm(FlaskForm):
    """Upload a saved secure.htm or the whole mail (.eml)."""

    file = FileField(validators=[InputRequired()])


def next_step(text: str, *, cross_site: bool) -> ResponseReturnValue:
    """Show what comes after receiving an envelope: login, or the message itself."""
    try:
        parsed = parse_envelope(text)
    except Refusal as refusal:
        return refusal.response
    if logged_in_address() is None:
        return login_page(envelope=text, email=parsed.header.recipient)
    if cross_site:
        # A post from another site must not open (and mark read) anything by itself.
        return render_carrying("reader/open.html", text, header=parsed.header)
    return show_message(text)


@bp.route("/")
def index() -> ResponseReturnValue:
    """Show the start page: upload a secure message."""
    return render_template("reader/upload.html", form=UploadForm())


@bp.route("/open", methods=["POST"])
@limited("open")
@csrf_exempt
def open_post() -> ResponseReturnValue:
    """Receive the envelope posted by the button in secure.htm (from a file:// page).

    Exempt from CSRF: it changes nothing and only shows the next step on our origin.
    """
    text = carried_envelope()
    if request.form.get("lang") in LANGUAGES:
        # The button the recipient pressed in secure.htm tells the language they read.
        session[LANGUAGE_KEY] = request.form["lang"]
    if not text:
        return redirect(url_for("reader.index"))
    return next_step(text, cross_site=True)


@bp.route("/open", methods=["GET"])
@bp.route("/read", methods=["GET"])
@bp.route("/download", methods=["GET"])
def open_get() -> ResponseReturnValue:
    """Send someone who reached a form target directly to the start page."""
    return redirect(url_for("reader.index"))


@bp.route("/upload", methods=["GET", "POST"])
@limited("upload")
def upload() -> ResponseReturnValue:
    """Pick or drop secure.htm or the whole saved mail; the envelope is taken from it."""

    form = UploadForm()
    if request.method == "GET":
        return render_template("reader/upload.html", form=form)
    if not form.validate_on_submit():
        failure = _("Please choose the secure.htm file (or the saved mail) first.")
        return render_template("reader/upload.html", form=form, failure=failure), 400
    data = form.file.data.read()
    try:
        # Checked before a saved mail is parsed to find the envelope in it.
        check_limits(data, title=_("This file cannot be read"))
    except Refusal as refusal:
        return refusal.response
    try:
        text = remember_envelope(read_envelope(data))
    except EnvelopeFormatError:
        return problem(
            "format",
            400,
            _("No secure message found"),
            _(
                "The file you chose does not contain a secure message. Choose the secure.htm "
                "attachment, or the whole mail saved as an .eml file."
            ),
        )
    return next_step(text, cross_site=False)


@bp.route("/resume", methods=["GET"])
def resume() -> ResponseReturnValue:
    """Bring the customer back to the message parked before a detour (once)."""
    text = take_parked()
    if not text:
        flash(
            _(
                "The message you were opening is no longer kept here. Please open the "
                "secure.htm attachment again."
            ),
            "info",
        )
        return redirect(url_for("reader.index"))
    return next_step(text, cross_site=False)


@bp.route("/read", methods=["POST"])
def read() -> ResponseReturnValue:
    """Decrypt the carried envelope and show the message."""
    text = carried_envelope()
    if not text:
        return redirect(url_for("reader.index"))
    return show_message(text)


def content_disposition(filename: str) -> str:
    """Return an RFC 6266 attachment header value (ASCII fallback plus UTF-8 name)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\;') or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _download(data: bytes, filename: str, content_type: str, charset: str = "") -> Response:
    """Send `data` as a file; the type is a clean ASCII type/subtype, the name goes only
    into the RFC 6266 Content-Disposition."""

    use_policy(DOWNLOAD_POLICY)
    kind = clean_type(content_type)
    if charset and kind.startswith("text/") and re.fullmatch(r"[A-Za-z0-9._:+-]{1,40}", charset):
        kind = f"{kind}; charset={charset}"
    response = Response(data, content_type=kind)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


@bp.route("/download", methods=["POST"])
def download() -> ResponseReturnValue:
    """Send one part (or the whole message as .eml) of the carried envelope, byte-identical.

    A part is its body decoded by its Content-Transfer-Encoding; the .eml is the decrypted
    message exactly as it was sealed.
    """

    text = carried_envelope()
    part = request.form.get("part", "")
    if not text or not part:
        return redirect(url_for("reader.index"))
    try:
        opened = open_envelope(text, first_reading=False)
    except Refusal as refusal:
        return refusal.response
    if part == "eml":
        subject = message_subject(opened.raw) or "message"
        return _download(opened.raw, safe_filename(subject, "0", "") + ".eml", "message/rfc822")
    found: Any = find_attachment(opened.raw, part)
    if found is None:
        return problem(
            "missing", 404, _("Attachment not found"), _("This message has no such attachment.")
        )
    attachment, data = found
    return _download(data, attachment.filename, attachment.content_type, attachment.charset)
