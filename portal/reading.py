"""Open a carried envelope for the logged-in recipient, or say clearly why not.

The checks run in a fixed order — format, login, recipient, expiry, withdrawal, key —
and only then is anything decrypted, with no keystore session open. The plaintext lives
in memory for one request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from flask import g, has_request_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from keystore.addresses import normalize_address
from portal import metrics
from portal.context import Services, now, runtime, services, settings
from portal.identity import current_recipient
from portal.loginpage import login_page, render_carrying
from portal.mimeview import build_view
from portal.moments import show_moment
from portal.sanitize import frame_document
from portal.security import MESSAGE_POLICY, use_policy
from portal.stored import mark_read_copy
from webcrypt import envelope as envelope_format
from webcrypt.mail.mimelimits import MimeLimitError, MimeLimits, check


@dataclass(frozen=True)
class Opened:
    """A successfully opened message: its header, its bytes, and whose it is."""

    header: Any
    raw: bytes
    address: str
    recipient_id: int


class Refusal(Exception):
    """The message cannot be shown; carries the response that says why."""

    def __init__(self, response: ResponseReturnValue) -> None:
        super().__init__("refused")
        self.response = response


def problem(kind: str, status: int, title: str, message: str, **extra: Any) -> ResponseReturnValue:
    """Render one of the reading error pages (and count the failed opening by its kind)."""
    metrics.opening(kind)
    context = {"kind": kind, "status": status, "title": title, "message": message, **extra}
    return render_carrying("reader/problem.html", context.pop("envelope", ""), **context), status


def _when(moment: datetime | None) -> str:
    return show_moment(moment)


def parse_envelope(text: str) -> Any:
    """Parse carried envelope text, or refuse with the "unknown format" page.

    Parsed once per request: the next step after an upload checks it, then opens it.
    """
    if has_request_context():
        cached = g.get("parsed_envelope")
        if cached is not None and cached[0] is text:
            return cached[1]
    try:
        parsed = envelope_format.parse(text)
    except envelope_format.EnvelopeFormatError:
        raise Refusal(
            problem(
                "format",
                400,
                _("This file cannot be read"),
                _(
                    "This is not a secure message, or it was made by a newer version of the "
                    "secure mail system. Open the secure.htm attachment of the original mail, or "
                    "upload it on the start page."
                ),
            )
        ) from None
    if has_request_context():
        g.parsed_envelope = (text, parsed)
    return parsed


def remember_envelope(parsed: envelope_format.Envelope) -> str:
    """Keep an envelope parsed elsewhere (an upload) for this request; return its text."""
    g.parsed_envelope = (parsed.text, parsed)
    return parsed.text


@dataclass(frozen=True)
class Permit:
    """What the first transaction found: the reader may decrypt with `key`."""

    address: str
    recipient_id: int
    key: bytes
    first_opening: bool


SEALING_ALLOWANCE = 64 * 1024
"""What sealing may add to a message the filter accepted (a Message-ID, a re-encoded Subject)."""


def largest_message() -> int:
    """The largest message the portal decompresses: the size limit the filter enforces."""
    return int(settings().max_message_size) + SEALING_ALLOWANCE


def open_envelope(text: str, *, first_reading: bool) -> Opened:
    """Check and decrypt `text` for the logged-in recipient; raise Refusal when not possible.

    On SQLite every keystore session holds the write lock, so no session stays open while
    a message (up to the size limit) is decrypted: a short one reads what the checks and
    the decryption need, and a second one, only for the first opening, records it.
    """
    parsed = parse_envelope(text)
    with services() as found:
        outcome = _check(found, parsed, text, first_reading=first_reading)
    if not isinstance(outcome, Permit):
        raise Refusal(outcome())  # the page is rendered after the session closed
    try:
        raw = envelope_format.open(parsed, outcome.key, max_size=largest_message())
    except envelope_format.DecryptionError:
        raise Refusal(_damaged()) from None
    if outcome.first_opening:
        with services() as found:
            _record_opening(found, parsed.header.message_id, outcome.recipient_id)
    return Opened(parsed.header, raw, outcome.address, outcome.recipient_id)


def _check(
    found: Services, parsed: Any, text: str, *, first_reading: bool
) -> Permit | Callable[[], ResponseReturnValue]:
    """Run the checks; return what decrypting needs or what renders the refusal."""
    header = parsed.header
    recipient = current_recipient(found)
    if recipient is None:
        return partial(login_page, envelope=text, email=header.recipient)
    address, recipient_id = str(recipient.address), int(recipient.id)
    try:
        intended = normalize_address(header.recipient)
    except ValueError:
        intended = ""
    if intended != address:
        return partial(_other_address, text, header.recipient, address)
    if envelope_format.is_expired(header, now()):
        return partial(_gone, "expired", header.expires)
    entry = found.ledger.get(header.message_id, recipient_id)
    if entry is not None and entry.revoked_at is not None:
        return partial(_gone, "withdrawn", entry.revoked_at)
    key = found.recipients.key(recipient_id, int(header.key_version))
    if key is None:
        return partial(_gone, "expired", header.expires)
    first_opening = first_reading and entry is not None and entry.first_opened_at is None
    return Permit(address, recipient_id, bytes(key), first_opening)


def _record_opening(found: Services, message_id: str, recipient_id: int) -> None:
    """Record the first opening (a concurrent opening may have recorded it meanwhile)."""
    if found.ledger.mark_opened(message_id, recipient_id):
        mark_read_copy(found, recipient_id, message_id, now())
        recipient = found.recipients.get_by_id(recipient_id)
        if recipient is not None:
            found.recipients.touch_activity(recipient)


def _other_address(text: str, intended: str, current: str) -> ResponseReturnValue:
    return problem(
        "recipient",
        403,
        _("This message is meant for another address"),
        _(
            "You are logged in as %(current)s, but this message is for %(intended)s. "
            "Log out and log in as %(intended)s to read it.",
            current=current,
            intended=intended,
        ),
        envelope=text,
        intended=intended,
    )


def _damaged() -> ResponseReturnValue:
    return problem(
        "damaged",
        422,
        _("This message has been altered or damaged"),
        _(
            "The secure message could not be decrypted because its content was "
            "changed on the way. A mail security system (virus scanner, spam filter) "
            "may have modified the attachment."
        ),
        hint=_(
            "Try opening the secure.htm attachment of the original mail again, or "
            "save the whole mail and upload it here. If that fails too, ask the "
            "sender to send the message again."
        ),
    )


def _gone(kind: str, since: datetime) -> ResponseReturnValue:
    """The page of a message that can no longer be read: "withdrawn" or "expired" `since`."""
    date = _when(since)
    if kind == "withdrawn":
        title = _("The sender has withdrawn this message")
        why = _(
            "The sender withdrew this message on %(date)s. Please contact the sender "
            "if you still need it.",
            date=date,
        )
    else:
        title = _("This message has expired")
        why = _(
            "This message could be read until %(date)s. Expired messages are deleted for good; "
            "please ask the sender to send it again if you still need it.",
            date=date,
        )
    return problem(kind, 410, title, why)


_LIMIT_REASONS = {
    "max_depth": lambda maximum: _(
        "Its parts are nested more than %(maximum)s levels deep.", maximum=maximum
    ),
    "max_parts": lambda maximum: _("It has more than %(maximum)s parts.", maximum=maximum),
    "max_header_bytes": lambda maximum: _(
        "A header of it is larger than %(maximum)s bytes.", maximum=maximum
    ),
    "max_line_length": lambda maximum: _(
        "A header field of it is longer than %(maximum)s bytes.", maximum=maximum
    ),
}


def check_limits(raw: bytes, *, title: str) -> None:
    """Refuse with a clear page when `raw` breaks a MIME limit (before anything parses it).

    One linear scan of the bytes (`webcrypt.mail.mimelimits`), with the limits of ``[limits]``.
    """

    try:
        check(raw, MimeLimits.from_config(runtime().config))
    except MimeLimitError as error:
        reason = _LIMIT_REASONS[error.limit](error.maximum)
        raise Refusal(
            problem(
                "limits",
                422,
                title,
                _(
                    "%(reason)s The secure mail system does not open messages this complex. "
                    "Please ask the sender to send the content in a simpler form, for example "
                    "with fewer attachments in one message.",
                    reason=reason,
                ),
            )
        ) from None


def show_message(text: str) -> ResponseReturnValue:
    """Open `text` and render the read page, or the page that says why it cannot be read."""

    try:
        opened = open_envelope(text, first_reading=True)
        check_limits(opened.raw, title=_("This message cannot be shown"))
    except Refusal as refusal:
        return refusal.response
    view = build_view(opened.raw)
    stylesheet = url_for("static", filename="mailframe.css")
    frames = {
        body.part_id: frame_document(body.content, stylesheet)
        for body in view.bodies
        if body.kind == "html"
    }
    use_policy(MESSAGE_POLICY)
    metrics.opening("ok")
    return render_carrying(
        "reader/message.html",
        text,
        view=view,
        frames=frames,
        header=opened.header,
        expires=_when(opened.header.expires),
    )
