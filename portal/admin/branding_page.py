"""Corporate identity: product name, logo, colour, footer and contact texts, with previews.

The previews show the portal page, ``secure.htm`` and the carrier mail as recipients will
see them. "Preview" shows the values typed into the form without saving them; the preview
frames are served by separate sandboxed responses (no script runs in them).

Logos: PNG or JPEG up to the keystore's size limit, checked by their magic bytes. SVG is
refused: an SVG file can carry scripts and links, and a logo does not need to be one.
"""

from __future__ import annotations

import struct
from urllib.parse import urlencode

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from keystore.errors import SettingsError
from keystore.settings import LOGO_TYPES, MAX_LOGO_BYTES, Settings, SettingsService
from portal.admin import bp
from portal.admin.access import require, services
from portal.admin.forms import BareForm, LogoForm
from portal.admin.previews import carrier_parts, portal_preview, secure_htm_preview
from portal.admin.settings_page import Field, field_errors, save
from portal.security import use_policy

FIELDS: tuple[Field, ...] = (
    Field("product_name", _l("Product name"), "text"),
    Field("brand_color", _l("Brand colour"), "color", _l("Six-digit hex colour, e.g. #1f4e79")),
    Field("footer_en", _l("Footer (English)"), "area"),
    Field("footer_de", _l("Footer (German)"), "area"),
    Field(
        "contact_en", _l("Contact (English)"), "area", _l("For example the helpdesk phone number.")
    ),
    Field("contact_de", _l("Contact (German)"), "area"),
)
MAX_LOGO_SIDE = 2000
#: Preview frames: no script, styles and images only from here or inline; framable by us only.
PREVIEW_POLICY = {
    "default-src": "'none'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "form-action": "'none'",
    "sandbox": "",
    "frame-ancestors": "'self'",
}


def logo_problem(data: bytes, filename: str) -> str:
    """Return why an uploaded logo is refused ("" when it is fine)."""
    name = filename.lower()
    if (
        name.endswith((".svg", ".svgz"))
        or data.lstrip()[:5] in (b"<?xml", b"<svg ")
        or (b"<svg" in data[:1024])
    ):
        return _("SVG logos are not accepted (an SVG file can carry scripts). Upload a PNG.")
    if not data:
        return _("Choose a PNG or JPEG file.")
    if len(data) > MAX_LOGO_BYTES:
        return _("The logo is too large: at most %(num)d KB.", num=MAX_LOGO_BYTES // 1024)
    if data.startswith(LOGO_TYPES["image/png"]):
        if len(data) < 24 or data[12:16] != b"IHDR":
            return _("The file is not a valid PNG image.")
        width, height = struct.unpack(">II", data[16:24])
        if not (0 < width <= MAX_LOGO_SIDE and 0 < height <= MAX_LOGO_SIDE):
            return _("The logo must be at most %(num)d × %(num)d pixels.", num=MAX_LOGO_SIDE)
        return ""
    if data.startswith(LOGO_TYPES["image/jpeg"]):
        return ""
    return _("The file is not a PNG or JPEG image.")


def logo_type(data: bytes) -> str:
    """Return the MIME type of an accepted logo."""
    return next(mime for mime, magic in LOGO_TYPES.items() if data.startswith(magic))


def draft_values() -> dict[str, str]:
    """Return the branding fields as submitted (form) or passed to a preview (query)."""
    source = request.form if request.method == "POST" else request.args
    return {field.name: source.get(field.name, "") for field in FIELDS if field.name in source}


def draft_settings(saved: SettingsService, values: dict[str, str]) -> Settings:
    """Return the saved settings with the draft values applied, when they are valid."""
    if not values:
        return saved.get()
    try:
        return saved.validate(values)
    except SettingsError:
        return saved.get()


def preview_lang() -> str:
    """Return the language of the previews ("en" or "de")."""
    return "de" if request.values.get("lang") == "de" else "en"


@bp.route("/branding", methods=["GET", "POST"])
@require("admin")
def branding() -> ResponseReturnValue:
    """Show and change the corporate identity; "Preview" shows a draft without saving."""
    form = BareForm()
    errors: dict[str, str] = {}
    lang = preview_lang()
    status = 200
    draft: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        draft = draft_values()
        if "save" in request.form:
            try:
                save(draft)
            except SettingsError as exc:
                errors = field_errors(exc)
                status = 400
            else:
                flash(_("Corporate identity saved."), "success")
                return redirect(url_for("admin.branding", lang=lang))
    elif request.method == "POST":
        status = 400
    with services() as found:
        current = draft_settings(found.settings, draft if not errors else {})
        values = draft or {field.name: getattr(current, field.name) for field in FIELDS}
    query = urlencode({**(draft if not errors else {}), "lang": lang})
    text, _html = carrier_parts(current, lang)
    return render_template(
        "admin/branding.html",
        form=form,
        logo_form=LogoForm(),
        fields=FIELDS,
        values=values,
        errors=errors,
        lang=lang,
        query=query,
        has_logo=bool(current.logo_png),
        carrier_text=text,
        previewing=bool(draft) and not errors and "save" not in request.form,
    ), status


@bp.route("/branding/logo", methods=["POST"])
@require("admin")
def upload_logo() -> ResponseReturnValue:
    """Replace or remove the logo."""
    form = LogoForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Try again."), "error")
        return redirect(url_for("admin.branding"))
    if "remove" in request.form:
        save({"logo_png": b"", "logo_mime": ""})
        flash(_("The logo is removed."), "success")
        return redirect(url_for("admin.branding"))
    upload = request.files.get("logo")
    data = upload.read(MAX_LOGO_BYTES + 1) if upload else b""
    problem = logo_problem(data, (upload.filename or "") if upload else "")
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.branding"))
    try:
        save({"logo_png": data, "logo_mime": logo_type(data)})
    except SettingsError as exc:
        flash("; ".join(field_errors(exc).values()), "error")
        return redirect(url_for("admin.branding"))
    flash(_("The logo is saved."), "success")
    return redirect(url_for("admin.branding"))


def _framed(body: str, mimetype: str = "text/html") -> Response:
    use_policy(PREVIEW_POLICY)
    return Response(body, mimetype=mimetype)


@bp.route("/branding/preview/<kind>")
@require("admin")
def preview(kind: str) -> ResponseReturnValue:
    """Serve one preview frame: the portal page, secure.htm or the carrier mail (HTML)."""
    lang = preview_lang()
    with services() as found:
        current = draft_settings(found.settings, draft_values())
    if kind == "portal":
        return _framed(portal_preview(current, lang))
    if kind == "secure":
        return _framed(secure_htm_preview(current, lang))
    if kind == "carrier":
        return _framed(carrier_parts(current, lang)[1])
    return Response("no such preview", status=404, mimetype="text/plain")
