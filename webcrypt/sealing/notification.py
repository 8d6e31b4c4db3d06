"""The notification mail: a message waits in the recipient's secure mailbox.

It names the adviser and the portal's host, links to the message (``/inbox/<entry id>``),
and carries nothing of the message: no content, and the subject only when the operator
allows it (``[mailbox] notification_subject``). The link holds no token: opening it
changes nothing (mail scanners fetch every link), the customer still logs in. Plain text
and HTML, in the recipient's language, or in every language when that is unknown, with the
same branding as the carrier mail.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Unpack
from urllib.parse import urlsplit

from markupsafe import escape

from webcrypt.mail.compose import serialize
from webcrypt.sealing.carrier import (
    Cover,
    NoteAuthor,
    branded_body,
    branded_note,
    thread_headers,
)

if TYPE_CHECKING:
    from datetime import datetime


NOTIFICATION_HEADER = "X-WebCrypt-Mailbox"
"""Marks a notification mail (value: the entry id), for filters and tests."""


def inbox_url(portal_url: str, entry_id: str) -> str:
    """The portal address of one stored message."""
    return f"{portal_url.rstrip('/')}/inbox/{entry_id}"


def portal_host(portal_url: str) -> str:
    """The host name the notification names (what the customer checks in the address bar)."""
    return urlsplit(portal_url).hostname or portal_url


_SLOT = "webcryptinboxlinkslot"
"""Stands in for the link while the texts are rendered (once per adviser, day and language)."""


@lru_cache(maxsize=256)
def _parts(
    *, subject: str, expires: datetime, langs: tuple[str, ...], **author: Unpack[NoteAuthor]
) -> tuple[str, str, str]:
    """Render subject, text and HTML, one language after the other, with `_SLOT` as link."""
    titles, text, html = branded_note(
        "mailbox",
        langs,
        host=portal_host(author["portal_url"]),
        link=_SLOT,
        subject=subject,
        expires=expires,
        **author,
    )
    return " / ".join(dict.fromkeys(titles)), text, html


def notification_mail(
    cover: Cover, *, entry_id: str, expires: datetime, show_subject: bool
) -> bytes:
    """Build the notification for one stored message as CRLF bytes.

    The message's subject (`cover.subject`) appears only when `show_subject` is true.
    """
    shown = cover.subject if show_subject else ""
    title, text, html = _parts(
        adviser=cover.adviser,
        settings=cover.settings,
        portal_url=cover.portal_url,
        subject=shown,
        expires=expires.replace(hour=0, minute=0, second=0, microsecond=0),
        langs=cover.languages(),
    )
    link = inbox_url(cover.portal_url, entry_id)
    text = text.replace(_SLOT, link)
    html = html.replace(_SLOT, str(escape(link)))
    return serialize(
        sender=cover.adviser.header(),
        to=cover.to,
        subject=f"{title}: {shown}" if shown else title,
        body=branded_body(text, html, cover.settings),
        headers=[
            *thread_headers(cover.thread),
            ("Auto-Submitted", "auto-generated"),
            (NOTIFICATION_HEADER, entry_id),
        ],
    ).tobytes()
