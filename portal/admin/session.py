"""The admin login, kept in its own signed cookie apart from the recipients' session.

The cookie ``webcrypt_admin`` is sent only to ``/admin`` (Path), only same-site (SameSite
Strict) and never to scripts (HttpOnly). It is signed with the portal's secret under a salt
of its own, so neither a recipient's session cookie nor anything else signed by the portal
passes as an admin session, and the recipient pages never look at it.

Stages: "factor" (password accepted, second factor outstanding, a few minutes at most),
"full" (logged in). The session carries the account's session generation from the
keystore, so logout, a new password, a new TOTP secret, a role change, disabling or
deleting the account end every copy of the cookie at once, on every instance. A session
ends after `MAX_HOURS` whatever happens, and after the admin's idle time without requests.

The cookie is signed, not encrypted: the TOTP secret being enrolled travels in it only
encrypted (AES-GCM under a key derived from the portal's secret, bound to the account).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Response, current_app, g, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from keystore.sessions import generation
from portal.context import now

COOKIE = "webcrypt_admin"
PATH = "/admin"
SALT = "webcrypt.admin-session"
FACTOR = "factor"
FULL = "full"
FACTOR_SECONDS = 300
MAX_HOURS = 12
_STATE = "_admin_state"
_DIRTY = "_admin_state_dirty"


@dataclass(frozen=True)
class AdminIdentity:
    """The logged-in admin as the views need it (no database object)."""

    id: int
    email: str
    role: str
    #: The language chosen for the admin pages; None = the browser's (or the footer switch's).
    language: str | None = None

    @property
    def is_admin(self) -> bool:
        """Tell whether the account may do everything (not only user management)."""
        return self.role == "admin"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=SALT)


def belongs_to(current: dict[str, Any], admin: Any) -> bool:
    """Tell whether the session state `current` is still valid for the account `admin`."""
    return (
        admin is not None
        and not admin.disabled
        and current.get("email") == admin.email
        and current.get("gen") == generation(admin)
    )


def state() -> dict[str, Any]:
    """Return this request's admin session state (read from the cookie once)."""
    if _STATE not in g:
        loaded: dict[str, Any] = {}
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                value = _serializer().loads(raw, max_age=MAX_HOURS * 3600)
            except BadSignature:
                value = None
            if isinstance(value, dict):
                loaded = value
        setattr(g, _STATE, loaded)
    current: dict[str, Any] = getattr(g, _STATE)
    return current


def replace(new_state: dict[str, Any]) -> None:
    """Replace the state; the cookie is written (or removed when empty) with the response."""
    setattr(g, _STATE, new_state)
    setattr(g, _DIRTY, True)


def start_factor(admin: Any) -> None:
    """Remember that the password was right; the second factor must follow soon."""
    replace(
        {
            "stage": FACTOR,
            "id": int(admin.id),
            "email": str(admin.email),
            "at": int(now().timestamp()),
            "gen": generation(admin),
        }
    )


def _enrollment_cipher() -> AESGCM:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SALT.encode() + b" totp")
    return AESGCM(hkdf.derive(secret))


def _enrollment_aad(admin_id: int) -> bytes:
    return f"webcrypt-admin-enrollment:{admin_id}".encode("ascii")


def set_enrollment_secret(admin_id: int, secret: str) -> None:
    """Keep the TOTP secret being enrolled (encrypted) until the first code confirms it."""
    nonce = os.urandom(12)
    sealed = nonce + _enrollment_cipher().encrypt(
        nonce, secret.encode("ascii"), _enrollment_aad(admin_id)
    )
    replace({**state(), "enroll": base64.urlsafe_b64encode(sealed).decode("ascii")})


def enrollment_secret(admin_id: int) -> str | None:
    """Return the TOTP secret being enrolled by `admin_id`, or None when there is none."""
    value = state().get("enroll")
    if not isinstance(value, str):
        return None
    try:
        sealed = base64.urlsafe_b64decode(value)
        clear = _enrollment_cipher().decrypt(sealed[:12], sealed[12:], _enrollment_aad(admin_id))
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return clear.decode("ascii")


def pending_admin_id() -> int | None:
    """Return the account waiting for its second factor, if it is still in time."""
    current = state()
    if current.get("stage") != FACTOR:
        return None
    if int(now().timestamp()) - int(current.get("at", 0)) > FACTOR_SECONDS:
        return None
    return int(current["id"])


def log_in(admin: Any) -> None:
    """Start the admin session proper, with a fresh CSRF token."""
    stamp = int(now().timestamp())
    replace(
        {
            "stage": FULL,
            "id": int(admin.id),
            "email": str(admin.email),
            "since": stamp,
            "seen": stamp,
            "gen": generation(admin),
        }
    )
    session.pop("csrf_token", None)


def log_out() -> None:
    """End the admin session (the recipients' session, if any, stays as it is)."""
    replace({})


def identity(admin: Any, *, idle_minutes: int) -> AdminIdentity | None:
    """Check the full session against `admin` (loaded by the id in the session).

    Returns None, and ends the session, when it is idle too long, older than `MAX_HOURS`,
    or was ended in the keystore (logout, new credentials, role, disabled, deleted).
    """
    current = state()
    if current.get("stage") != FULL:
        return None
    stamp = int(now().timestamp())
    idle = idle_minutes * 60
    too_old = stamp - int(current.get("since", 0)) > MAX_HOURS * 3600
    idle_out = stamp - int(current.get("seen", 0)) > idle
    if too_old or idle_out or not belongs_to(current, admin):
        replace({"ended": True} if idle_out else {})
        return None
    if stamp - int(current["seen"]) >= 30:
        replace({**current, "seen": stamp})
    return AdminIdentity(int(admin.id), str(admin.email), str(admin.role), admin.language)


def session_id() -> int | None:
    """Return the account id of a full session (not yet checked against the account)."""
    current = state()
    return int(current["id"]) if current.get("stage") == FULL and "id" in current else None


def ended_by_timeout() -> bool:
    """Tell (once) whether the last session ended because it was idle."""
    if state().get("ended"):
        replace({})
        return True
    return False


def save(response: Response) -> Response:
    """Write the admin cookie when the state changed during this request."""
    if not g.get(_DIRTY):
        return response
    current = state()
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    if not current:
        response.delete_cookie(COOKIE, path=PATH, httponly=True, secure=secure, samesite="Strict")
        return response
    response.set_cookie(
        COOKIE,
        _serializer().dumps(current),
        max_age=MAX_HOURS * 3600,
        path=PATH,
        httponly=True,
        secure=secure,
        samesite="Strict",
    )
    return response
