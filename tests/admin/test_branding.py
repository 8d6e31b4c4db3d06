"""Corporate identity: fields, logo upload checks, and previews of what recipients see."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient

from tests.admin.conftest import text_of
from tests.admin.helpers import branding_form
from tests.portal.helpers import csrf_token
from tests.support.images import png as image
from webcrypt.runtime import Runtime


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG image of the given size (red)."""
    return image(width, height, b"\xff\x00\x00" * width, rgb=True)


def upload(client: FlaskClient, data: bytes, filename: str) -> str:
    token = csrf_token(client.get("/admin/branding").data)
    response = client.post(
        "/admin/branding/logo",
        data={"csrf_token": token, "upload": "1", "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return text_of(client.get(response.headers["Location"]))


def test_save_branding(admin_client: FlaskClient, runtime: Runtime) -> None:
    changes = {
        "product_name": "Bank Secure",
        "brand_color": "#AA3300",
        "footer_de": "Bank AG, Sitz Musterstadt",
        "contact_en": "Helpdesk: +49 30 1234",
    }
    data = branding_form(admin_client, **changes, save="1")
    response = admin_client.post("/admin/branding", data=data)
    assert response.status_code == 302
    current = runtime.settings()
    stored = {name: getattr(current, name) for name in changes}
    assert stored == {**changes, "brand_color": "#aa3300"}  # the colour in lower case
    # The recipient portal uses it at once.
    portal = admin_client.application.test_client()
    assert "Bank Secure" in portal.get("/").get_data(as_text=True)
    assert "#aa3300" in portal.get("/brand.css").get_data(as_text=True)


def test_preview_shows_a_draft_without_saving(admin_client: FlaskClient, runtime: Runtime) -> None:
    data = branding_form(
        admin_client, product_name="Entwurf Bank", brand_color="#00aa00", preview="1"
    )
    response = admin_client.post("/admin/branding", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "not saved yet" in html
    assert runtime.settings().product_name == "WebCrypt"
    frames = re.findall(r'<iframe[^>]*src="([^"]+)"', html)
    assert len(frames) == 3
    for src in frames:
        assert "product_name=Entwurf+Bank" in src
    portal = admin_client.get(frames[0].replace("&amp;", "&"))
    assert "Entwurf Bank" in portal.get_data(as_text=True)
    assert "#00aa00" in portal.get_data(as_text=True)
    secure = admin_client.get(frames[1].replace("&amp;", "&"))
    assert "Entwurf Bank" in secure.get_data(as_text=True)
    # The page always says "envelope" (its generator tag, the field name): check the armor.
    assert "-----BEGIN WEBCRYPT ENVELOPE-----" in secure.get_data(as_text=True)
    carrier = admin_client.get(frames[2].replace("&amp;", "&"))
    assert "Entwurf Bank" in carrier.get_data(as_text=True)


def test_preview_frames_are_sandboxed(admin_client: FlaskClient) -> None:
    for kind in ("portal", "secure", "carrier"):
        response = admin_client.get(f"/admin/branding/preview/{kind}?lang=de")
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy
        assert "frame-ancestors 'self'" in policy
        assert "script" not in policy
    assert admin_client.get("/admin/branding/preview/other").status_code == 404


def test_carrier_text_preview(admin_client: FlaskClient, runtime: Runtime) -> None:
    from tests.portal.conftest import update_settings

    update_settings(runtime, contact_de="Hotline 0800 123", product_name="Bank Secure")
    html = admin_client.get("/admin/branding?lang=de").get_data(as_text=True)
    text = re.search(r'<pre class="mail-text" id="carrier-text">(.*?)</pre>', html, re.S)
    assert text and "Hotline 0800 123" in text.group(1) and "Bank Secure" in text.group(1)


def test_png_logo_upload_and_removal(admin_client: FlaskClient, runtime: Runtime) -> None:
    image = png()
    assert "The logo is saved." in upload(admin_client, image, "logo.png")
    assert runtime.settings().logo_png == image
    assert runtime.settings().logo_mime == "image/png"
    assert admin_client.get("/logo").data == image
    token = csrf_token(admin_client.get("/admin/branding").data)
    admin_client.post("/admin/branding/logo", data={"csrf_token": token, "remove": "1"})
    assert runtime.settings().logo_png == b""


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "SVG logos are not accepted",
        ),
        (b'<?xml version="1.0"?><svg/>', "logo.png", "SVG logos are not accepted"),
        (b"GIF89a....", "logo.gif", "not a PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "logo.png", "not a valid PNG"),
        (b"", "logo.png", "Choose a PNG or JPEG file"),
        (png() + b"\x00" * (200 * 1024), "big.png", "too large"),
        (png(4000, 10), "wide.png", "at most 2000 × 2000 pixels"),
    ],
)
def test_bad_logos_are_refused(
    admin_client: FlaskClient, runtime: Runtime, data: bytes, filename: str, message: str
) -> None:
    assert message in upload(admin_client, data, filename)
    assert runtime.settings().logo_png == b""
