"""Names the admin pages show for stored values (roles, states, PIN holders) in both languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_NAMES = {"admin": _l("administrator"), "helpdesk": _l("helpdesk")}
STATUS_NAMES = {"active": _l("active"), "deactivated": _l("deactivated")}
#: Who got a new PIN, by the channel of `webcrypt.sealing.pins`.
PIN_HOLDERS = {
    "adviser": _l("the adviser"),
    "recipient": _l("the customer"),
    "helpdesk": _l("the helpdesk"),
    "sms": _l("the customer by SMS"),
}


def role_name(role: str) -> str:
    """Return the shown name of an admin role."""
    return str(ROLE_NAMES.get(role, role))


def status_name(status: str) -> str:
    """Return the shown name of an account's status."""
    return str(STATUS_NAMES.get(status, status))


def pin_holder(channel: str) -> str:
    """Return who got a PIN sent on `channel`, as the object of a sentence."""
    return str(PIN_HOLDERS.get(channel, channel))


def template_names() -> dict[str, object]:
    """The functions the admin templates use to name stored values."""
    return {"role_name": role_name, "status_name": status_name}
