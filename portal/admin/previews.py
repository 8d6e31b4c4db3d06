"""Previews of what recipients see, rendered from (possibly unsaved) branding settings."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from flask import render_template, url_for

from portal.context import now, runtime
from webcrypt.envelope import RecipientKey, seal
from webcrypt.sealing.branding import Branding
from webcrypt.sealing.carrier import LOGO_CID, Adviser, readable_parts
from webcrypt.sealing.securehtm import render_secure_htm

SAMPLE_SENDER = "berta.berater@bank.example"
SAMPLE_RECIPIENT = "kunde@example.com"
SAMPLE_MESSAGE = (
    b"From: Berta Berater <berta.berater@bank.example>\r\n"
    b"To: kunde@example.com\r\nSubject: Preview\r\n\r\nThis is a preview.\r\n"
)


def portal_url() -> str:
    """Return the portal's public address."""
    return str(runtime().config.portal.public_url).rstrip("/")


def portal_preview(settings: Any, lang: str) -> str:
    """Render the portal's login page as it looks with `settings`."""
    branding = Branding.from_settings(settings, lang)
    return render_template("admin/preview_portal.html", branding=branding, lang=lang)


def secure_htm_preview(settings: Any, lang: str) -> str:
    """Render a secure.htm around a freshly sealed sample message (a throwaway key)."""
    moment = now()
    sealed = seal(
        SAMPLE_MESSAGE,
        [RecipientKey(SAMPLE_RECIPIENT, "preview", 1, os.urandom(32))],
        sender=SAMPLE_SENDER,
        message_id="preview@bank.example",
        portal_url=portal_url(),
        expires=moment + timedelta(days=int(settings.message_expiry_days)),
        now=moment,
    )
    return render_secure_htm(
        sealed.armored(SAMPLE_RECIPIENT),
        sealed.headers[SAMPLE_RECIPIENT],
        branding=Branding.from_settings(settings, lang),
        lang=lang,
    )


def carrier_parts(settings: Any, lang: str) -> tuple[str, str]:
    """Return the carrier mail's text and HTML part for a sample adviser.

    The mail names its logo by Content-ID; in the browser the portal's logo stands in.
    """
    text, html = readable_parts(
        adviser=Adviser(address=SAMPLE_SENDER, name="Berta Berater"),
        settings=settings,
        portal_url=portal_url(),
        langs=(lang,),
        neutral=False,
    )
    return text, html.replace(f'src="cid:{LOGO_CID}"', f'src="{url_for("logo")}"')
