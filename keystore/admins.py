"""Admin and helpdesk accounts of the admin frontend.

Wrong passwords and wrong TOTP codes are counted apart: the password's lockout is the
recipients' one (`keystore.lockout`), the codes have their own counter, which only a right
code or an unlock resets, and a lock that doubles with every round of wrong codes. A code's
time step is claimed with one conditional UPDATE, so a code logs in once even when two
requests race on different instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.addresses import normalize_address
from keystore.audit import AuditService
from keystore.clock import Clock, utcnow
from keystore.errors import KeystoreError, MasterKeyError
from keystore.languages import check_language
from keystore.lockout import is_locked, register_failure, register_success
from keystore.masterkey import MasterKey, is_wrapped_text
from keystore.models import Admin
from keystore.passwordrules import admin_password_problem
from keystore.passwords import Hasher
from keystore.roles import ROLES
from keystore.sessions import end_sessions
from keystore.settings import SettingsService

AdminOutcome = Literal["ok", "bad", "locked", "inactive"]
#: The longest lock after rounds of wrong TOTP codes (the lock doubles each round).
MAX_CODE_LOCK = timedelta(days=1)


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
        """Create an account; raises KeystoreError when the address is taken.

        The password is a one-time password that the first login replaces (by one that
        `set_password` checks against the password rule).
        """
        if not password:
            raise ValueError("the password must not be empty")
        admin = Admin(
            email=normalize_address(email),
            role=_check_role(role),
            password_hash=self.hasher.hash(password),
            failed_logins=0,
            failed_codes=0,
            session_generation=0,
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
        if stored is not None and not is_wrapped_text(stored):
            self.set_totp_secret(admin, stored)

    def set_password(self, admin: Admin, password: str) -> None:
        """Set a new password (ValueError when it is weak); every session ends."""
        _check_password(password, admin.email)
        admin.password_hash = self.hasher.hash(password)
        end_sessions(self.session, admin)

    def set_totp_secret(self, admin: Admin, secret: str | None) -> None:
        """Store (or remove with None) the TOTP secret of the second factor, wrapped.

        Every session ends: a session must not outlive the authenticator it was opened with.
        """
        if secret is None:
            admin.totp_secret = None
        else:
            if admin.id is None:
                self.session.flush()  # the wrapping is bound to the account id
            admin.totp_secret = self._master_key().wrap_text(secret, totp_aad(admin.id))
        end_sessions(self.session, admin)

    def set_language(self, admin: Admin, lang: str | None) -> None:
        """Set the language of the admin pages ("en", "de", or None for the browser's)."""
        admin.language = check_language(lang)
        self.session.flush()

    def end_sessions(self, admin: Admin) -> None:
        """End every session of the account (logout), on every instance."""
        end_sessions(self.session, admin)

    # -- the second factor ----------------------------------------------------------------

    def codes_locked(self, admin: Admin) -> bool:
        """Tell whether wrong TOTP codes have locked the second factor for now."""
        until = admin.codes_locked_until
        return until is not None and until > self.clock()

    def check_code(self, admin: Admin, step: int | None) -> AdminOutcome:
        """Accept a TOTP code whose time step is `step` (None: it matched no step).

        A step is accepted once and only when newer than the last one used; a refused code
        counts towards the codes' lock, which a correct password does not lift.
        """
        if self.codes_locked(admin):
            return "locked"
        if step is None or not self._claim_step(admin, step):
            self._code_failed(admin)
            return "bad"
        admin.failed_codes = 0
        admin.codes_locked_until = None
        self.session.flush()
        return "ok"

    def _claim_step(self, admin: Admin, step: int) -> bool:
        """Record `step` as used, atomically: of two racing requests only one gets a row.

        The condition is evaluated on the row as the database locks it, so a second
        transaction waits for the first and then finds the step used.
        """
        self.session.flush()
        result = cast(
            "CursorResult[Any]",
            self.session.execute(
                update(Admin)
                .where(
                    Admin.id == admin.id,
                    or_(Admin.last_totp_step.is_(None), Admin.last_totp_step < step),
                )
                .values(last_totp_step=step)
                .execution_options(synchronize_session=False)
            ),
        )
        self.session.refresh(admin, ["last_totp_step"])
        return result.rowcount == 1

    def _code_failed(self, admin: Admin) -> None:
        """Count a refused code; each full round of them locks for twice as long as the last."""
        now = self.clock()
        limits = SettingsService(self.session).get()
        admin.failed_codes = Admin.failed_codes + 1
        self.session.flush()
        self.session.refresh(admin, ["failed_codes"])
        threshold = max(int(limits.lockout_threshold), 1)
        if admin.failed_codes % threshold == 0:
            rounds = min(admin.failed_codes // threshold, 20)
            lock = min(timedelta(minutes=limits.lockout_minutes) * 2 ** (rounds - 1), MAX_CODE_LOCK)
            admin.codes_locked_until = now + lock
            AuditService(self.session, clock=lambda: now).record(
                "security.lockout",
                actor="system",
                target=admin.email,
                detail=f"{admin.failed_codes} wrong authentication codes; second factor "
                f"locked for {int(lock.total_seconds() // 60)} minutes",
            )
        self.session.flush()

    def totp_secret(self, admin: Admin) -> str | None:
        """Return the clear TOTP secret of `admin` (None before enrolment)."""
        stored = admin.totp_secret
        if not is_wrapped_text(stored):
            return stored
        return self._master_key().unwrap_text(
            stored,
            totp_aad(admin.id),
            damaged=f"the stored TOTP secret of admin {admin.email} is damaged; "
            f"reset it with `webcrypt admin reset-2fa {admin.email}`",
        )

    def _master_key(self) -> MasterKey:
        if self.master_key is None:
            raise MasterKeyError("TOTP secrets need the master key; pass master_key=")
        return self.master_key

    def disable(self, admin: Admin) -> None:
        """Disable an account: it can no longer log in, and every session ends."""
        admin.disabled = True
        end_sessions(self.session, admin)

    def enable(self, admin: Admin) -> None:
        """Enable a disabled account again."""
        admin.disabled = False
        end_sessions(self.session, admin)

    def delete(self, admin: Admin) -> None:
        """Delete an account; its sessions end with it."""
        end_sessions(self.session, admin)
        self.session.delete(admin)
        self.session.flush()

    def unlock(self, admin: Admin) -> None:
        """Lift the lockouts of both the password and the second factor."""
        admin.failed_codes = 0
        admin.codes_locked_until = None
        register_success(self.session, admin)


def _check_password(password: str, email: str) -> None:
    if not password:
        raise ValueError("the password must not be empty")
    problem = admin_password_problem(password, email)
    if problem:
        raise ValueError(problem)
