"""Admin and helpdesk accounts of the admin frontend."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.addresses import normalize_address
from keystore.clock import Clock, utcnow
from keystore.errors import KeystoreError, MasterKeyError
from keystore.lockout import is_locked, register_failure, register_success
from keystore.masterkey import MasterKey
from keystore.models import Admin
from keystore.passwords import Hasher

ROLES = ("admin", "helpdesk")
AdminOutcome = Literal["ok", "bad", "locked", "inactive"]
#: Marks a TOTP secret stored wrapped under the master key; anything else is a clear
#: secret written by an older release (read as it is and wrapped at the next login).
WRAPPED_TOTP = "wrapped:"


def totp_aad(admin_id: int) -> bytes:
    """Associated data that binds a wrapped TOTP secret to its admin account."""
    return b"webcrypt-admin-totp:" + str(admin_id).encode("ascii")


@dataclass(frozen=True)
class AdminAuthResult:
    """The outcome of an admin login attempt; `admin` is set only when the outcome is "ok"."""

    outcome: AdminOutcome
    admin: Admin | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the attempt succeeded."""
        return self.outcome == "ok"


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


class AdminService:
    """Creates, lists, authenticates and disables admin accounts."""

    def __init__(
        self,
        session: Session,
        *,
        clock: Clock = utcnow,
        hasher: Hasher | None = None,
        master_key: MasterKey | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.hasher = hasher or Hasher()
        self.master_key = master_key

    def create(self, email: str, *, role: str = "admin", password: str) -> Admin:
        """Create an account; raises KeystoreError when the address is taken."""
        if not password:
            raise ValueError("the password must not be empty")
        admin = Admin(
            email=normalize_address(email),
            role=_check_role(role),
            password_hash=self.hasher.hash(password),
            failed_logins=0,
            disabled=False,
            created_at=self.clock(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(admin)
        except IntegrityError as exc:
            raise KeystoreError(f"an admin account for {admin.email} already exists") from exc
        return admin

    def get(self, email: str) -> Admin | None:
        """Return the account of an address, or None."""
        try:
            normalized = normalize_address(email)
        except ValueError:
            return None
        return self.session.scalar(select(Admin).where(Admin.email == normalized))

    def get_by_id(self, admin_id: int) -> Admin | None:
        """Return the account with this id, or None."""
        return self.session.get(Admin, admin_id)

    def list(self) -> list[Admin]:
        """Return every account, by address."""
        return list(self.session.scalars(select(Admin).order_by(Admin.email)))

    def count(self) -> int:
        """Return how many enabled accounts exist."""
        query = select(func.count()).select_from(Admin).where(Admin.disabled.is_(False))
        return int(self.session.scalar(query) or 0)

    def authenticate(self, email: str, password: str) -> AdminAuthResult:
        """Check a password with lockout; unknown addresses cost the same and give "bad"."""
        admin = self.get(email)
        if admin is None:
            self.hasher.waste_time(password)
            return AdminAuthResult("bad")
        if is_locked(admin, self.clock()):
            self.hasher.waste_time(password)
            return AdminAuthResult("locked", locked_until=admin.locked_until)
        ok, new_hash = self.hasher.verify(password, admin.password_hash)
        if not ok:
            register_failure(self.session, admin, self.clock())
            return AdminAuthResult("bad")
        if new_hash:
            admin.password_hash = new_hash
        if admin.disabled:
            self.session.flush()
            return AdminAuthResult("inactive")
        register_success(self.session, admin)
        return AdminAuthResult("ok", admin)

    def record_login(self, admin: Admin) -> None:
        """Note a successful login (after the second factor); wrap a secret still in clear."""
        admin.last_login_at = self.clock()
        register_success(self.session, admin)
        stored = admin.totp_secret
        if stored is not None and not stored.startswith(WRAPPED_TOTP):
            self.set_totp_secret(admin, stored)

    def set_password(self, admin: Admin, password: str) -> None:
        """Set a new password."""
        if not password:
            raise ValueError("the password must not be empty")
        admin.password_hash = self.hasher.hash(password)
        self.session.flush()

    def set_role(self, admin: Admin, role: str) -> None:
        """Change the role ("admin" or "helpdesk")."""
        admin.role = _check_role(role)
        self.session.flush()

    def set_totp_secret(self, admin: Admin, secret: str | None) -> None:
        """Store (or remove with None) the TOTP secret of the second factor, wrapped."""
        if secret is None:
            admin.totp_secret = None
        else:
            if admin.id is None:
                self.session.flush()  # the wrapping is bound to the account id
            blob = self._master_key().wrap(secret.encode("ascii"), totp_aad(admin.id))
            admin.totp_secret = WRAPPED_TOTP + base64.b64encode(blob).decode("ascii")
        self.session.flush()

    def totp_secret(self, admin: Admin) -> str | None:
        """Return the clear TOTP secret of `admin` (None before enrolment)."""
        stored = admin.totp_secret
        if stored is None or not stored.startswith(WRAPPED_TOTP):
            return stored
        try:
            blob = base64.b64decode(stored.removeprefix(WRAPPED_TOTP), validate=True)
        except binascii.Error as exc:
            raise MasterKeyError(
                f"the stored TOTP secret of admin {admin.email} is damaged; "
                f"reset it with `webcrypt admin reset-2fa {admin.email}`"
            ) from exc
        return self._master_key().unwrap(blob, totp_aad(admin.id)).decode("ascii")

    def _master_key(self) -> MasterKey:
        if self.master_key is None:
            raise MasterKeyError("TOTP secrets need the master key; pass master_key=")
        return self.master_key

    def disable(self, admin: Admin) -> None:
        """Disable an account: it can no longer log in."""
        admin.disabled = True
        self.session.flush()

    def enable(self, admin: Admin) -> None:
        """Enable a disabled account again."""
        admin.disabled = False
        self.session.flush()

    def unlock(self, admin: Admin) -> None:
        """Lift a lockout."""
        register_success(self.session, admin)
