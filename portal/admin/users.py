"""Recipient accounts: search by address prefix, detail page, and confirmed actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from keystore import reports
from keystore.lockout import is_locked
from keystore.mailbox import METHODS
from portal.admin import bp
from portal.admin.access import (
    ALL_ROLES,
    Page,
    Services,
    allow,
    current,
    page_number,
    record,
    require,
    services,
)
from portal.admin.forms import BareForm, ConfirmForm
from portal.admin.pinmail import reset_destination
from portal.admin.reset import reset_password
from portal.admin.words import pin_holder
from portal.context import internal_domains, now, runtime, settings
from webcrypt.sealing.pins import NoDestination

#: Refusing a reset when the PIN would go to an adviser and none is on record.
NO_ADVISER = _l(
    "No adviser is on record for this account, so the new PIN cannot be sent to one. "
    "Set 'PIN after an admin reset' to the customer or the helpdesk in the settings, "
    "or ask the adviser to send a new secure message after deleting the account."
)
PAGE_SIZE = 25
MAX_PAGE = 10_000
USER_ROLES = ALL_ROLES
#: Helpdesk users reset, unlock, deactivate and reactivate; destroying keys is for admins.
ADMIN_ONLY = ("admin",)


@dataclass(frozen=True)
class Action:
    """A change to an account that needs a confirmation step."""

    title: str
    button: str
    explanation: str
    audit: str
    danger: bool = False
    typed: bool = False
    roles: tuple[str, ...] = USER_ROLES


ACTIONS: dict[str, Action] = {
    "reset": Action(
        _l("Reset password"),
        _l("Reset and send a new PIN"),
        _l(
            "The current password stops working at once. A new one-time PIN is mailed "
            "automatically to {destination}. The recipient logs in with it and chooses a new "
            "password."
        ),
        "recipient.reset_password",
    ),
    "unlock": Action(
        _l("Unlock"),
        _l("Unlock the account"),
        _l("The lock after failed logins is lifted and the failure counter starts again at 0."),
        "recipient.unlock",
    ),
    "deactivate": Action(
        _l("Deactivate"),
        _l("Deactivate the account"),
        _l(
            "The recipient can no longer log in, and the gateway stops sealing new mail for this "
            "address (senders get a notice instead). Keys are kept; the account can be "
            "reactivated."
        ),
        "recipient.deactivate",
        danger=True,
    ),
    "reactivate": Action(
        _l("Reactivate"),
        _l("Reactivate the account"),
        _l("The recipient can log in again and new mail to this address is sealed again."),
        "recipient.reactivate",
    ),
    "rotate": Action(
        _l("Rotate key"),
        _l("Create a new key version"),
        _l(
            "New messages are sealed with a new key version. Messages sent before stay readable "
            "until they expire."
        ),
        "recipient.rotate_key",
        roles=ADMIN_ONLY,
    ),
    "delete": Action(
        _l("Delete"),
        _l("Delete the account and its keys"),
        _l(
            "Every key of this account is destroyed: every message ever sent to {address} becomes "
            "unreadable for everyone, for good. The account and its personal data are removed. "
            "A new message to this address would create a new account."
        ),
        "recipient.delete",
        danger=True,
        typed=True,
        roles=ADMIN_ONLY,
    ),
}


@bp.route("/users")
@require(*USER_ROLES)
def users() -> ResponseReturnValue:
    """Search recipients by the start of their address, a page at a time."""
    prefix = request.args.get("q", "").strip()[:320]
    page = page_number(MAX_PAGE)
    with services() as found:
        rows = found.recipients.search(prefix, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        moment = now()
        results = [
            {
                "id": row.id,
                "address": row.address,
                "status": row.status,
                "locked": is_locked(row, moment),
                "created_at": row.created_at,
                "last_login_at": row.last_login_at,
            }
            for row in rows[:PAGE_SIZE]
        ]
    return render_template(
        "admin/users.html",
        q=prefix,
        page=page,
        results=results,
        has_next=len(rows) > PAGE_SIZE,
    )


def _load(found: Services, recipient_id: int) -> Any:
    recipient = found.recipients.get_by_id(recipient_id)
    if recipient is None:
        abort(404)
    return recipient


def detail_context(found: Services, recipient: Any) -> dict[str, Any]:
    """Everything the detail page shows about an account (never keys or secrets)."""
    moment = now()
    mailbox = runtime().keystore.mailbox(found.session)
    return {
        "mailbox": {
            "count": mailbox.count(recipient.id),
            "unread": mailbox.unread(recipient.id),
            "used": mailbox.usage(recipient.id),
            "quota": int(settings().mailbox_quota),
        },
        "methods": METHODS,
        "default_method": runtime().config.mailbox.default_method,
        "delivery_form": BareForm(),
        "recipient": recipient,
        "locked": is_locked(recipient, moment),
        "needs_pin": recipient.needs_pin,
        "keys": reports.key_versions(found.session, recipient.id),
        "message_count": reports.message_count(found.session, recipient.id),
        "messages": found.ledger.for_recipient(recipient.id, limit=20),
        # Only the actions the admin's role allows are offered.
        "actions": {name: act for name, act in ACTIONS.items() if current().role in act.roles},
    }


@bp.route("/users/<int:recipient_id>")
@require(*USER_ROLES)
def user(recipient_id: int) -> ResponseReturnValue:
    """Show one account."""
    with services() as found:
        context = detail_context(found, _load(found, recipient_id))
    return render_template("admin/user.html", **context)


@bp.route("/users/<int:recipient_id>/delivery", methods=["POST"])
@require(*USER_ROLES)
def user_delivery(recipient_id: int) -> ResponseReturnValue:
    """Set how the account gets its messages (or let the rules decide again)."""
    form = BareForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = request.form.get("method", "")
    if chosen not in ("", *METHODS):
        abort(400)
    with services() as found:
        recipient = _load(found, recipient_id)
        runtime().keystore.mailbox(found.session).set_delivery_method(recipient.id, chosen or None)
        record(
            found,
            "recipient.delivery_method",
            target=recipient.address,
            detail=f"delivery method: {chosen or 'by the rules'}",
        )
        address = recipient.address
    done = _(
        "Delivery method of %(address)s: %(method)s.",
        address=address,
        method=chosen or _("by the rules"),
    )
    return back_to_account(recipient_id, done)


def back_to_account(recipient_id: int, done: str) -> ResponseReturnValue:
    """Confirm a change of one account to the admin and show the account's page again."""
    flash(done, "success")
    return redirect(url_for("admin.user", recipient_id=recipient_id))


@dataclass(frozen=True)
class Surroundings:
    """What the actions need besides the database: settings and the company's domains."""

    settings: Any
    internal_domains: tuple[str, ...]


def explanation(action: Action, recipient: Any, current: Any) -> str:
    """Fill in the account's address and where a new PIN would go."""
    try:
        to = reset_destination(recipient, current)
        where = (
            f"{pin_holder(to.role)} ({to.address})"
            if to.role in ("adviser", "recipient")
            else to.address
        )
    except NoDestination:
        where = _("nobody: no adviser is on record for this account")
    return str(action.explanation).format(address=recipient.address, destination=where)


@bp.route("/users/<int:recipient_id>/<name>", methods=["GET", "POST"])
@require(*USER_ROLES)
def user_action(recipient_id: int, name: str) -> ResponseReturnValue:
    """Confirm (GET) and carry out (POST) one action on an account."""
    action = ACTIONS.get(name)
    if action is None:
        abort(404)
    allow(*action.roles)
    around = Surroundings(settings(), internal_domains().domains)
    with services() as found:
        outcome = _act(found, recipient_id, name, action, around)
    if isinstance(outcome, Reset):
        # The relay may be slow: the PIN mail goes out after this session closed.
        return reset_password(
            outcome.recipient,
            title=action.title,
            audit=action.audit,
            settings=around.settings,
            internal_domains=around.internal_domains,
        )
    return outcome.render() if isinstance(outcome, Page) else outcome


@dataclass(frozen=True)
class Reset:
    """A confirmed password reset, carried out once the session is closed."""

    recipient: Any


def _act(
    found: Services, recipient_id: int, name: str, action: Action, around: Surroundings
) -> Page | Reset | ResponseReturnValue:
    form = ConfirmForm()
    recipient = _load(found, recipient_id)
    address = recipient.address
    page = Page(
        "admin/confirm.html",
        action=action,
        name=name,
        recipient=recipient,
        explanation=explanation(action, recipient, around.settings),
        form=form,
    )
    if request.method == "GET" or not form.validate_on_submit():
        return page
    if action.typed and not form.check_typed(address):
        page.status = 400
        return page
    back = redirect(url_for("admin.user", recipient_id=recipient_id))
    if name == "reset":
        try:
            reset_destination(recipient, around.settings)  # refuse before anything is mailed
        except NoDestination:
            flash(str(NO_ADVISER), "error")
            return back
        return Reset(recipient)
    outcome = PERFORM[name](found, recipient, around)
    record(found, action.audit, target=address, detail=outcome.detail)
    done = _("%(action)s: done for %(address)s.", action=action.title, address=address)
    flash(f"{done} {outcome.shown}".strip(), "success")
    if name == "delete":
        return redirect(url_for("admin.users"))
    return back


@dataclass(frozen=True)
class Done:
    """What an action did: for the audit log (English) and for the admin (translated)."""

    detail: str = ""
    shown: str = ""


def _unlock(found: Services, recipient: Any, around: Surroundings) -> Done:
    found.recipients.unlock(recipient)
    return Done()


def _deactivate(found: Services, recipient: Any, around: Surroundings) -> Done:
    found.recipients.set_status(recipient, "deactivated")
    return Done()


def _reactivate(found: Services, recipient: Any, around: Surroundings) -> Done:
    found.recipients.set_status(recipient, "active")
    return Done()


def _rotate(found: Services, recipient: Any, around: Surroundings) -> Done:
    version = found.recipients.rotate_key(recipient)
    return Done(f"New key version {version}.", _("New key version %(version)d.", version=version))


def _delete(found: Services, recipient: Any, around: Surroundings) -> Done:
    versions = len(found.recipients.key_versions(recipient))
    found.recipients.delete(recipient)
    return Done(
        f"{versions} key version(s) destroyed.",
        _("%(num)d key version(s) destroyed.", num=versions),
    )


PERFORM: dict[str, Callable[[Services, Any, Surroundings], Done]] = {
    "unlock": _unlock,
    "deactivate": _deactivate,
    "reactivate": _reactivate,
    "rotate": _rotate,
    "delete": _delete,
}
