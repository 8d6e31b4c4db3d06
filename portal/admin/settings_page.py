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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
    ("adviser", _l("the sending adviser (passes it on by phone)")),
    ("recipient", _l("the customer, by mail")),
    ("helpdesk", _l("the helpdesk address (passes it on by phone)")),
    ("sms", _l("an SMS to the customer (number given by the adviser)")),
)

SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        _l("Mail rules"),
        (
            Field(
                "trigger_word",
                _l("Trigger word"),
                "text",
                _l("A word in the subject that seals a mail."),
            ),
            Field(
                "internal_domains",
                _l("Internal domains"),
                "list",
                _l("Comma or space separated. Empty: the domains from the configuration file."),
            ),
            Field(
                "attachment_domains",
                _l("Domains that get a neutral attachment"),
                "list",
                _l(
                    "External domains whose mail systems strip .htm attachments: their attachment "
                    "is a neutral file to upload. The secure mailbox serves them better."
                ),
            ),
            Field(
                "mailbox_domains",
                _l("Domains that get the secure mailbox"),
                "list",
                _l(
                    "The message is stored on the portal; the recipient gets a notification with "
                    "a link instead of the attachment. A recipient's own choice and the adviser's "
                    "X-WebCrypt-Delivery header come first."
                ),
            ),
            Field(
                "both_domains",
                _l("Domains that get attachment and mailbox"),
                "list",
                _l("The attachment, and a link to the same message in the secure mailbox."),
            ),
            Field(
                "max_message_size", _l("Largest message (bytes)"), "number", _l("10485760 = 10 MB")
            ),
            Field(
                "mailbox_quota",
                _l("Secure mailbox size per account (bytes)"),
                "number",
                _l("104857600 = 100 MB"),
            ),
            Field(
                "thread_trigger",
                _l("Seal answers to portal mails"),
                "flag",
                _l(
                    "An adviser's answer to a mail the customer sent from the portal is sealed "
                    "without the trigger word."
                ),
            ),
        ),
    ),
    (
        _l("Messages and notices"),
        (
            Field("message_expiry_days", _l("Messages expire after (days)"), "number"),
            Field("expiry_notice_days", _l("Expiry notice, days before"), "number", _l("0 = none")),
            Field(
                "expiry_notice_mode",
                _l("Expiry notice for"),
                "choice",
                choices=(
                    ("all", _l("all messages")),
                    ("unread", _l("unread messages")),
                    ("never", _l("none")),
                ),
            ),
            Field("unread_notice_days", _l("Tell the adviser when unread after (days)"), "number"),
            Field("read_receipts", _l("Read receipts to advisers"), "flag"),
            Field("withdraw_link", _l("Withdraw link in the adviser's copy"), "flag"),
            Field("ledger_retention_days", _l("Keep message records for (days)"), "number"),
        ),
    ),
    (
        _l("Accounts"),
        (
            Field("inactivity_days", _l("Delete unused accounts after (days)"), "number"),
            Field("inactivity_notice_days", _l("Notice before deletion (days)"), "number"),
            Field("key_rotation_days", _l("Rotate recipient keys every (days)"), "number"),
            Field(
                "first_contact_pin",
                _l("PIN for a new account"),
                "choice",
                _l(
                    "Who gets the one-time PIN when the first secure message to an address "
                    "creates its account."
                ),
                PIN_CHOICES,
            ),
            Field(
                "reset_pin",
                _l("PIN after an admin reset"),
                "choice",
                _l(
                    "Who gets the new one-time PIN after an admin resets a password. When it is "
                    "not the customer, the customer is told by mail who will give it to them."
                ),
                PIN_CHOICES,
            ),
            Field(
                "pin_helpdesk",
                _l("Helpdesk address for PINs"),
                "text",
                _l("Needed when a PIN goes to the helpdesk."),
            ),
            Field(
                "default_language",
                _l("Default language"),
                "choice",
                choices=(("en", _l("English")), ("de", _l("Deutsch"))),
            ),
        ),
    ),
    (
        _l("Security"),
        (
            Field("session_idle_minutes", _l("Recipient idle timeout (minutes)"), "number"),
            Field("session_max_hours", _l("Recipient session lifetime (hours)"), "number"),
            Field("admin_idle_minutes", _l("Admin idle timeout (minutes)"), "number"),
            Field("lockout_threshold", _l("Lock accounts after failed logins"), "number"),
            Field("lockout_minutes", _l("Lock for (minutes)"), "number"),
            Field("pin_valid_days", _l("One-time PIN valid for (days)"), "number"),
            Field("reset_link_minutes", _l("Password-reset link valid for (minutes)"), "number"),
            Field(
                "reset_answer_attempts",
                _l("Wrong security answers before an admin reset is needed"),
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


def field_errors(exc: SettingsError) -> dict[str, str]:
    """Return why each refused field was refused, in the admin's language.

    A rule that compares two fields names the other one by its label on the page
    ("must be less than “Messages expire after (days)”"), not by its key.
    """
    labels = {field.name: field.label for field in all_fields()}
    shown = {}
    for name, problem in exc.problems.items():
        params = dict(problem.params)
        label = labels.get(str(params.get("other")))
        if label is not None:  # `other` names the field the rule compares with
            params["other"] = _("“%(label)s”", label=str(label))
        shown[name] = _(problem.template, **params)
    return shown


def domains_in_force(found: InternalDomains) -> str:
    """Say which internal domains the filter and the portal use, and where they come from."""
    if found.source == "settings":
        text = _("In force: %(domains)s, from this setting.", domains=", ".join(found.domains))
        if found.from_config:
            configured = ", ".join(found.from_config)
            text += " " + _(
                "The configuration file's filter.internal_domains (%(domains)s) is not used"
                " while this setting lists a domain.",
                domains=configured,
            )
        return text
    shown = ", ".join(found.domains) or _("none")
    return _(
        "In force: %(domains)s, from the configuration file (filter.internal_domains), "
        "as this setting is empty.",
        domains=shown,
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
            errors = field_errors(exc)
        else:
            flash(_("Settings saved. Every instance uses them within a minute."), "success")
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
