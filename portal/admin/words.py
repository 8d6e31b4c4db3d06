"""The names the admin pages show for stored values (roles, account states), in both languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_NAMES = {"admin": _l("administrator"), "helpdesk": _l("helpdesk")}
STATUS_NAMES = {"active": _l("active"), "deactivated": _l("deactivated")}


def role_name(role: str) -> str:
    """Return the shown name of an admin role."""
    return str(ROLE_NAMES.get(role, role))


def status_name(status: str) -> str:
    """Return the shown name of an account's status."""
    return str(STATUS_NAMES.get(status, status))


def template_names() -> dict[str, object]:
    """The functions the admin templates use to name stored values."""
    return {"role_name": role_name, "status_name": status_name}
