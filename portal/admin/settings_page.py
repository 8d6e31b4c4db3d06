"""The settings page: every admin setting, validated by the keystore, with per-field errors.

A saved change is in force in this process at once and on every other filter and portal
instance within a minute (they re-read the settings every 30 seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from keystore.errors import SettingsError
from portal import metrics
from portal.admin import bp
from portal.admin.access import client_ip, current, require, services
from portal.admin.forms import BareForm
from portal.context import runtime
from webcrypt.runtime import InternalDomains, effective_internal_domains
from webcrypt.sealing.pins import ADMIN_RESET, FIRST_CONTACT, describe_pin_channel


@dataclass(frozen=True)
class Field:
    """How one setting appears on a page."""

    name: str
    label: str
    kind: str  # text, number, list, choice, flag, area, color
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()


PIN_CHOICES = (
    ("adviser", "the sending adviser (passes it on by phone)"),
    ("recipient", "the customer, by mail"),
    ("helpdesk", "the helpdesk address (passes it on by phone)"),
    ("sms", "an SMS to the customer (number given by the adviser)"),
)

SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "Mail rules",
        (
            Field(
                "trigger_word", "Trigger word", "text", "A word in the subject that seals a mail."
            ),
            Field(
                "internal_domains",
                "Internal domains",
                "list",
                "Comma or space separated. Empty: the domains from the configuration file.",
            ),
            Field(
                "attachment_domains",
                "Domains that get a neutral attachment",
                "list",
                "External domains whose mail systems strip .htm attachments: their attachment "
                "is a neutral file to upload. The secure mailbox serves them better.",
            ),
            Field(
                "mailbox_domains",
                "Domains that get the secure mailbox",
                "list",
                "The message is stored on the portal; the recipient gets a notification with a "
                "link instead of the attachment. A recipient's own choice and the adviser's "
                "X-WebCrypt-Delivery header come first.",
            ),
            Field(
                "both_domains",
                "Domains that get attachment and mailbox",
                "list",
                "The attachment, and a link to the same message in the secure mailbox.",
            ),
            Field("max_message_size", "Largest message (bytes)", "number", "10485760 = 10 MB"),
            Field(
                "mailbox_quota",
                "Secure mailbox size per account (bytes)",
                "number",
                "104857600 = 100 MB",
            ),
            Field(
                "thread_trigger",
                "Seal answers to portal mails",
                "flag",
                "An adviser's answer to a mail the customer sent from the portal is sealed "
                "without the trigger word.",
            ),
        ),
    ),
    (
        "Messages and notices",
        (
            Field("message_expiry_days", "Messages expire after (days)", "number"),
            Field("expiry_notice_days", "Expiry notice, days before", "number", "0 = none"),
            Field(
                "expiry_notice_mode",
                "Expiry notice for",
                "choice",
                choices=(("all", "all messages"), ("unread", "unread messages"), ("never", "none")),
            ),
            Field("unread_notice_days", "Tell the adviser when unread after (days)", "number"),
            Field("read_receipts", "Read receipts to advisers", "flag"),
            Field("withdraw_link", "Withdraw link in the adviser's copy", "flag"),
            Field("ledger_retention_days", "Keep message records for (days)", "number"),
        ),
    ),
    (
        "Accounts",
        (
            Field("inactivity_days", "Delete unused accounts after (days)", "number"),
            Field("inactivity_notice_days", "Notice before deletion (days)", "number"),
            Field("key_rotation_days", "Rotate recipient keys every (days)", "number"),
            Field(
                "first_contact_pin",
                "PIN for a new account",
                "choice",
                "Who gets the one-time PIN when the first secure message to an address creates "
                "its account.",
                PIN_CHOICES,
            ),
            Field(
                "reset_pin",
                "PIN after an admin reset",
                "choice",
                "Who gets the new one-time PIN after an admin resets a password. When it is not "
                "the customer, the customer is told by mail who will give it to them.",
                PIN_CHOICES,
            ),
            Field(
                "pin_helpdesk",
                "Helpdesk address for PINs",
                "text",
                "Needed when a PIN goes to the helpdesk.",
            ),
            Field(
                "default_language",
                "Default language",
                "choice",
                choices=(("en", "English"), ("de", "Deutsch")),
            ),
        ),
    ),
    (
        "Security",
        (
            Field("session_idle_minutes", "Recipient idle timeout (minutes)", "number"),
            Field("session_max_hours", "Recipient session lifetime (hours)", "number"),
            Field("admin_idle_minutes", "Admin idle timeout (minutes)", "number"),
            Field("lockout_threshold", "Lock accounts after failed logins", "number"),
            Field("lockout_minutes", "Lock for (minutes)", "number"),
            Field("pin_valid_days", "One-time PIN valid for (days)", "number"),
            Field("reset_link_minutes", "Password-reset link valid for (minutes)", "number"),
            Field(
                "reset_answer_attempts",
                "Wrong security answers before an admin reset is needed",
                "number",
            ),
        ),
    ),
)


def shown_value(field: Field, value: Any) -> Any:
    """Return a stored value as the form shows it."""
    if field.kind == "list":
        return ", ".join(value)
    return value


def submitted(fields: tuple[Field, ...]) -> dict[str, object]:
    """Read the submitted values of `fields` (an unticked box is sent as "false")."""
    values: dict[str, object] = {}
    for field in fields:
        if field.kind == "flag":
            values[field.name] = "true" if request.form.get(field.name) else "false"
        else:
            values[field.name] = request.form.get(field.name, "")
    return values


def save(values: Mapping[str, object]) -> Any:
    """Validate and store settings as the current admin; raise SettingsError on bad input."""
    with services() as found:
        saved = found.settings.update(values, actor=current().email, ip=client_ip())
    metrics.admin_action("settings.update")
    runtime().refresh_settings()
    return saved


def domains_in_force(found: InternalDomains) -> str:
    """Say which internal domains the filter and the portal use, and where they come from."""
    if found.source == "settings":
        text = f"In force: {', '.join(found.domains)}, from this setting."
        if found.from_config:
            configured = ", ".join(found.from_config)
            text += (
                f" The configuration file's filter.internal_domains ({configured}) is not used"
                " while this setting lists a domain."
            )
        return text
    shown = ", ".join(found.domains) or "none"
    return (
        f"In force: {shown}, from the configuration file (filter.internal_domains), "
        "as this setting is empty."
    )


def all_fields() -> tuple[Field, ...]:
    """Return every field of the settings page."""
    return tuple(field for _, fields in SECTIONS for field in fields)


@bp.route("/settings", methods=["GET", "POST"])
@require("admin")
def settings_page() -> ResponseReturnValue:
    """Show and change the settings."""
    form = BareForm()
    errors: dict[str, str] = {}
    fields = all_fields()
    with services() as found:
        stored = found.settings.get()
    if request.method == "POST" and form.validate_on_submit():
        values = submitted(fields)
        try:
            save(values)
        except SettingsError as exc:
            errors = exc.errors
        else:
            flash("Settings saved. Every instance uses them within a minute.", "success")
            return redirect(url_for("admin.settings_page"))
        shown = dict(values)
        status = 400
    else:
        shown = {field.name: shown_value(field, getattr(stored, field.name)) for field in fields}
        status = 400 if request.method == "POST" else 200
    in_force = effective_internal_domains(stored, runtime().config.filter.internal_domains)
    sms = bool(runtime().config.sms.gateway)
    notes = {
        "internal_domains": domains_in_force(in_force),
        "first_contact_pin": describe_pin_channel(FIRST_CONTACT, stored, sms=sms),
        "reset_pin": describe_pin_channel(ADMIN_RESET, stored, sms=sms),
    }
    return render_template(
        "admin/settings.html",
        form=form,
        sections=SECTIONS,
        values=shown,
        errors=errors,
        notes=notes,
    ), status
