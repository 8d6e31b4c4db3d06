"""The secure mailbox seen by its customer: the inbox, opening, deleting, the help page.

The list shows what each message's sealed summary says (date, sender, subject, size,
attachments), opened with the customer's key after the database session closed, newest
first, 50 to a page, and how much of the mailbox is used. A message opens through the
reading path of a secure.htm (`portal.reading.show_message`), shown exactly the same way;
its pages carry the entry id instead of the envelope (see `portal.stored`).

The link in a notification mail is fetched by mail scanners (Safe Links and the like):
without a session, its GET only shows the login page and remembers the message in the
visitor's own session cookie; nothing is read, marked or spent. After login, the
customer lands on that message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from babel import Locale, numbers
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _

from keystore.mailbox import PAGE_SIZE, MailboxEntry
from portal import metrics
from portal.context import now, services, settings
from portal.extensions import limited
from portal.identity import current_recipient
from portal.loginpage import login_page
from portal.moments import show_day, show_moment
from portal.reading import show_message
from portal.stored import is_entry_id, look_up, mailbox, remember_target
from webcrypt import envelope as envelope_format
from webcrypt.sealing.summary import Summary, open_summary

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """One line of the inbox as the page shows it (every text ready to show)."""

    id: str
    date: str
    sender: str
    sender_address: str
    subject: str
    size: str
    unread: bool
    expires_note: str
    attachments: int
    attachments_note: str
    readable: bool


@dataclass(frozen=True)
class Usage:
    """How much of the mailbox is used."""

    used: int
    quota: int

    @property
    def percent(self) -> int:
        """The share used, in whole percent (0 to 100)."""
        if self.quota <= 0:
            return 0
        return min(100, round(self.used * 100 / self.quota))


KIB = 1024
MIB = 1024 * 1024


@bp.app_template_filter("mailbox_size")
def mailbox_size(size: int, locale: Locale | str | None = None) -> str:
    """Show a size as the mailbox limits are stated: KB below a megabyte, else MB (1024-based)."""
    locale = locale or get_locale() or "en"
    if size < MIB:
        kilobytes = max(1, round(size / KIB)) if size else 0
        return f"{numbers.format_decimal(kilobytes, locale=locale)} KB"
    megabytes = numbers.format_decimal(round(size / MIB, 1), format="#,##0.#", locale=locale)
    return f"{megabytes} MB"


class Formatter:
    """Dates and notes of one page in the visitor's language, looked up once per page.

    Dates are written as on every portal page (`portal.moments`); Flask-Babel would find the
    catalogue again on every call, and most lines share a few deletion days.
    """

    def __init__(self) -> None:
        self.locale: Locale | str = get_locale() or "en"
        self.catalogue = get_translations()
        self.days: dict[date, str] = {}

    def when(self, moment: datetime) -> str:
        """The date and time of `moment` as every portal page shows it."""
        return show_moment(moment)

    def expires(self, moment: datetime) -> str:
        """The note that says on which day a message is deleted (most share a few days)."""
        day = moment.astimezone(UTC).date()
        if day not in self.days:
            shown = show_day(moment)
            self.days[day] = self.catalogue.gettext("Deleted on %(date)s") % {"date": shown}
        return self.days[day]

    def size(self, size: int) -> str:
        """A message size as `mailbox_size` shows it."""
        return mailbox_size(size, self.locale)

    def attachments(self, count: int) -> str:
        """The attachment marker's text."""
        text = self.catalogue.ngettext("%(num)d attachment", "%(num)d attachments", count)
        return text % {"num": count}


def summary_of(entry: MailboxEntry, key: bytes | None) -> Summary | None:
    """Open the sealed summary of `entry` (None when the key is gone or it is damaged)."""
    if key is None:
        return None
    try:
        return open_summary(entry.summary, key)
    except (envelope_format.DecryptionError, envelope_format.EnvelopeFormatError):
        log.warning("inbox: the summary of stored message %s cannot be opened", entry.id)
        return None


def row(entry: MailboxEntry, key: bytes | None, show: Formatter) -> Row:
    """Describe `entry` for the list, from its summary (or plainly when it cannot be opened)."""
    opened = summary_of(entry, key)
    summary = opened or Summary(entry.stored_at, "", "", _("(this message cannot be shown)"), 0, 0)
    return Row(
        id=entry.id,
        date=show.when(summary.date),
        sender=summary.sender_name or summary.sender_address,
        sender_address=summary.sender_address if summary.sender_name else "",
        subject=summary.subject or _("(no subject)"),
        size=show.size(summary.size or entry.size),
        unread=entry.read_at is None,
        expires_note=show.expires(entry.expires_at),
        attachments=summary.attachments,
        attachments_note=show.attachments(summary.attachments) if summary.attachments else "",
        readable=opened is not None,
    )


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def quota() -> int:
    """The size of every mailbox in bytes (the admin setting)."""
    return int(settings().mailbox_quota)


@bp.route("", methods=["GET"])
@limited("open", methods=("GET",))
def index() -> ResponseReturnValue:
    """List the customer's stored messages, newest first, one page at a time."""
    number = _page_number()
    total = used = 0
    entries: list[MailboxEntry] = []
    keys: dict[int, bytes | None] = {}
    with services() as found:
        recipient = current_recipient(found)
        if recipient is not None:
            recipient_id = int(recipient.id)
            box = mailbox(found)
            total = box.count(recipient_id)
            number = min(number, max(1, -(-total // PAGE_SIZE)))
            entries = box.page(recipient_id, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            used = box.usage(recipient_id)
            keys = {
                version: found.recipients.key(recipient_id, version)
                for version in {entry.key_version for entry in entries}
            }
    if recipient is None:
        return login_page()
    # Opened after the session closed (no database lock held while decrypting).
    show = Formatter()
    rows = [row(entry, keys.get(entry.key_version), show) for entry in entries]
    return render_template(
        "inbox/index.html",
        rows=rows,
        total=total,
        unread=sum(1 for line in rows if line.unread),
        page=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        usage=Usage(used, quota()),
    )


def gone() -> ResponseReturnValue:
    """The page for a link to a message that is no longer in the mailbox."""
    metrics.opening("gone")
    return render_template("inbox/gone.html"), 410


@bp.route("/<entry_id>", methods=["GET"])
@limited("open", methods=("GET",))
def entry(entry_id: str) -> ResponseReturnValue:
    """Show one stored message as an opened secure.htm shows it, and mark it read.

    Without a session (a mail scanner following the notification link, or the customer
    not yet logged in) this only shows the login page.
    """
    found = look_up(entry_id)
    if found.recipient_id is None:
        remember_target(entry_id)
        flash(_("Please log in to read your secure message."), "info")
        return login_page()
    if not found.envelope:
        return gone()
    shown = show_message(found.envelope)
    if not isinstance(shown, tuple):  # the message page; a refusal comes with its status
        with services() as opened:
            mailbox(opened).mark_read(found.recipient_id, entry_id, now())
    return shown


def _entry_for_delete(entry_id: str) -> tuple[int | None, Row | None]:
    """Return the logged-in customer's id and the row of `entry_id` (None when gone)."""
    if not is_entry_id(entry_id):
        entry_id = ""
    with services() as found:
        recipient = current_recipient(found)
        if recipient is None:
            return None, None
        recipient_id = int(recipient.id)
        stored = mailbox(found).entry(recipient_id, entry_id) if entry_id else None
        key = found.recipients.key(recipient_id, stored.key_version) if stored else None
    return recipient_id, row(stored, key, Formatter()) if stored is not None else None


@bp.route("/<entry_id>/delete", methods=["GET"])
def confirm_delete(entry_id: str) -> ResponseReturnValue:
    """Ask before deleting a stored message."""
    recipient_id, shown = _entry_for_delete(entry_id)
    if recipient_id is None:
        return login_page()
    if shown is None:
        return gone()
    return render_template("inbox/delete.html", row=shown)


@bp.route("/<entry_id>/delete", methods=["POST"])
@limited("open")
def delete(entry_id: str) -> ResponseReturnValue:
    """Delete a stored message for good (the form carries the CSRF token)."""
    with services() as found:
        recipient = current_recipient(found)
        deleted = False
        if recipient is not None and is_entry_id(entry_id):
            deleted = mailbox(found).delete(int(recipient.id), entry_id)
            if deleted:
                found.audit.record(
                    "portal.mailbox_deleted",
                    actor=recipient.address,
                    target=entry_id,
                    ip=request.remote_addr or "",
                )
    if recipient is None:
        return login_page()
    if not deleted:
        return gone()
    flash(_("The message has been deleted."), "success")
    return redirect(url_for("inbox.index"))


@bp.route("/help", methods=["GET"])
def help_page() -> ResponseReturnValue:
    """Explain the secure mailbox to customers (no login needed)."""
    return render_template(
        "inbox/help.html",
        quota=quota(),
        days=int(settings().message_expiry_days),
    )


__all__ = ["bp"]
