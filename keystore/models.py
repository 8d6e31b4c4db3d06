"""Database tables of the keystore (SQLAlchemy 2 typed declarative)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from keystore.columns import UTCDateTime, address_type, blob_type, long_text_type

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Tables use utf8mb4 on MariaDB/MySQL whatever the database default is.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


class Base(DeclarativeBase):
    """Declarative base with constraint names that the migrations repeat.

    A `Mapped[datetime]` column is an aware UTC `UTCDateTime`; `repr` shows the attributes
    named in `_repr_fields` (never a secret).
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # For a table without constraints of its own; the others end their tuple with it.
    __table_args__: Any = MYSQL_TABLE_OPTIONS
    type_annotation_map = {datetime: UTCDateTime()}
    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_fields)
        return f"{type(self).__name__}({shown})"


class Recipient(Base):
    """An external recipient's account."""

    __tablename__ = "recipients"
    __table_args__ = (
        # The filter counts a sender's new recipients of the last hour (webcrypt.smtp.sealer).
        Index("ix_recipients_created_by_created_at", "created_by", "created_at"),
        # Never reuse the id of a deleted account: keys and notices are bound to it.
        {**MYSQL_TABLE_OPTIONS, "sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(address_type(), unique=True, index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    security_question: Mapped[str | None] = mapped_column(String(255))
    security_answer_hash: Mapped[str | None] = mapped_column(String(255))
    # Wrapped under the master key (see RecipientService.set_security_phrase).
    security_phrase: Mapped[str | None] = mapped_column(String(1024))
    # The mobile number PINs go to by SMS, in E.164 form (given by the adviser).
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320), default="")
    last_login_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None] = mapped_column(index=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    read_receipts: Mapped[bool] = mapped_column(default=False)
    #: Written into every session cookie at login; raising it ends every session at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When the current one-time PIN was issued (it expires after `pin_valid_days`).
    pin_issued_at: Mapped[datetime | None]
    #: Wrong security answers since the last admin reset (from any address).
    reset_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    #: "attachment", "mailbox" or "both"; None follows the domain rules and the default.
    delivery_method: Mapped[str | None] = mapped_column(String(16))

    keys: Mapped[list[RecipientKey]] = relationship(
        back_populates="recipient",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RecipientKey.version",
    )

    @property
    def needs_pin(self) -> bool:
        """Tell whether the next login needs the one-time PIN (no password set yet)."""
        return self.password_hash is None and self.pin_hash is not None

    _repr_fields = ("id", "address", "status")


class ResetToken(Base):
    """A mailed link to reset a forgotten password; only the SHA-256 of its token is kept."""

    __tablename__ = "reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    #: Set when the link was used (its button posted): a token works once.
    used_at: Mapped[datetime | None]
    #: Set when the reset ended: new password saved, or self-service closed.
    finished_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(String(64), default="")

    _repr_fields = ("id", "recipient_id")


class LoginThrottle(Base):
    """Failed logins of one (address, client IP) pair and how long that pair must wait."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("address", "ip"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(address_type())
    ip: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)

    _repr_fields = ("address", "ip")


class RecipientKey(Base):
    """One version of a recipient's key, wrapped under the master key (None once destroyed)."""

    __tablename__ = "recipient_keys"
    __table_args__ = (UniqueConstraint("recipient_id", "version"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    version: Mapped[int]
    wrapped_key: Mapped[bytes | None]
    master_key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    destroyed_at: Mapped[datetime | None]

    recipient: Mapped[Recipient] = relationship(back_populates="keys")

    def __repr__(self) -> str:
        state = "destroyed" if self.wrapped_key is None else "live"
        return (
            f"RecipientKey(recipient_id={self.recipient_id!r}, version={self.version!r}, {state})"
        )


class Admin(Base):
    """An administrator or helpdesk account of the admin frontend."""

    __tablename__ = "admins"
    __table_args__ = ({**MYSQL_TABLE_OPTIONS, "sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(address_type(), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="admin")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: "wrapped:" + base64 of the secret wrapped under the master key (see AdminService).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    #: Written into every session cookie at login; raising it ends every session at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Wrong TOTP codes, counted apart from wrong passwords so a password cannot reset them.
    failed_codes: Mapped[int] = mapped_column(default=0, server_default="0")
    codes_locked_until: Mapped[datetime | None]
    #: The newest TOTP time step used to log in; a code is accepted once (see AdminService).
    last_totp_step: Mapped[int | None]
    #: The language the admin chose for the admin pages ("en", "de"); None = the browser's.
    language: Mapped[str | None] = mapped_column(String(8))

    _repr_fields = ("id", "email", "role")


class SettingValue(Base):
    """One admin setting, stored as JSON text under its name."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(long_text_type())
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    _repr_fields = ("name",)


class LedgerEntry(Base):
    """Metadata of one sealed message for one recipient; never subject or content."""

    __tablename__ = "ledger"
    __table_args__ = (UniqueConstraint("message_id", "recipient_id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(255))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    key_version: Mapped[int]
    first_opened_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(320))

    _repr_fields = ("message_id", "recipient_id")


class RelayedMail(Base):
    """One mail the relay took for a received transaction: what a retry must not send again.

    `message` is a digest of the transaction as received (sender, recipients, bytes);
    `part` names one mail that came out of it. Nothing of the content or the addresses.
    """

    __tablename__ = "relayed"

    message: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[str] = mapped_column(String(32), primary_key=True)
    relayed_at: Mapped[datetime] = mapped_column(index=True)

    _repr_fields = ("message", "part")


class PortalMessage(Base):
    """A mail a recipient sent from the portal (a reply or a new message), by its Message-ID.

    The filter seals an adviser's answer to it even without a trigger (the thread rule).
    """

    __tablename__ = "portal_messages"

    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(index=True)

    _repr_fields = ("message_id",)


class AuditEvent(Base):
    """One entry of the append-only audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(320), index=True)
    target: Mapped[str] = mapped_column(String(320), default="", index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    _repr_fields = ("id", "action", "actor")


class Notice(Base):
    """A notice mail that was sent; (kind, key) is unique so each is sent once."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("kind", "key"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    recipient_id: Mapped[int | None]
    sent_at: Mapped[datetime]

    _repr_fields = ("kind", "key")


class Lease(Base):
    """A named lease so that only one instance runs a periodic job at a time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]

    _repr_fields = ("name", "holder")


class AdviserOption(Base):
    """Per-adviser choices, keyed by the adviser's normalized address."""

    __tablename__ = "adviser_options"

    address: Mapped[str] = mapped_column(address_type(), primary_key=True)
    read_receipts: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    _repr_fields = ("address", "read_receipts")


class MailboxMessage(Base):
    """A sealed message kept in a recipient's secure mailbox: ciphertext only.

    The envelope itself is in `MailboxChunk` rows; `summary` is a small envelope of its
    own (date, sender, subject, size) sealed under the same recipient key.
    """

    __tablename__ = "mailbox_messages"
    __table_args__ = (
        Index("ix_mailbox_messages_recipient_id_stored_at", "recipient_id", "stored_at"),
        UniqueConstraint("recipient_id", "message_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(255), index=True)
    key_version: Mapped[int]
    stored_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    size: Mapped[int]
    chunks: Mapped[int]
    read_at: Mapped[datetime | None]
    summary: Mapped[bytes]

    _repr_fields = ("id", "recipient_id")


class MailboxChunk(Base):
    """One piece of a stored envelope, so no statement carries a whole message."""

    __tablename__ = "mailbox_chunks"

    entry_id: Mapped[str] = mapped_column(
        String(43), ForeignKey("mailbox_messages.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(blob_type())

    _repr_fields = ("entry_id", "seq")


def huge_text_type() -> Any:
    """Text as large as a sealed message (LONGTEXT on MariaDB/MySQL)."""
    return Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


class ParkedEnvelope(Base):
    """A sealed message (ciphertext) kept for minutes while its reader takes a detour.

    Keyed by the SHA-256 of a token that only the reader's browser session holds; used once.
    """

    __tablename__ = "parked_envelopes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    envelope: Mapped[str] = mapped_column(huge_text_type())
    expires_at: Mapped[datetime] = mapped_column(index=True)

    _repr_fields = ("id",)
