"""Database tables of the keystore (SQLAlchemy 2 typed declarative)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    """Declarative base with constraint names that the migrations repeat."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Recipient(Base):
    """An external recipient's account."""

    __tablename__ = "recipients"
    __table_args__ = (
        Index("ix_recipients_address", "address", unique=True),
        Index("ix_recipients_last_activity_at", "last_activity_at"),
        # The filter counts a sender's new recipients of the last hour (webcrypt.smtp.sealer).
        Index("ix_recipients_created_by_created_at", "created_by", "created_at"),
        # Never reuse the id of a deleted account: keys and notices are bound to it.
        {**MYSQL_TABLE_OPTIONS, "sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(address_type())
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320), default="")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_receipts: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Written into every session cookie at login; raising it ends every session at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the current one-time PIN was issued (it expires after `pin_valid_days`).
    pin_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Wrong security answers since the last admin reset (from any address).
    reset_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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

    def __repr__(self) -> str:
        return f"Recipient(id={self.id!r}, address={self.address!r}, status={self.status!r})"


class ResetToken(Base):
    """A mailed link to reset a forgotten password; only the SHA-256 of its token is kept."""

    __tablename__ = "reset_tokens"
    __table_args__ = (
        Index("ix_reset_tokens_token_hash", "token_hash", unique=True),
        Index("ix_reset_tokens_recipient_id", "recipient_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when the link was used (its button posted): a token works once.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when the reset ended: new password saved, or self-service closed.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(64), default="")

    def __repr__(self) -> str:
        return f"ResetToken(id={self.id!r}, recipient_id={self.recipient_id!r})"


class LoginThrottle(Base):
    """Failed logins of one (address, client IP) pair and how long that pair must wait."""

    __tablename__ = "login_throttles"
    __table_args__ = (
        UniqueConstraint("address", "ip"),
        Index("ix_login_throttles_last_failure_at", "last_failure_at"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(address_type())
    ip: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"LoginThrottle(address={self.address!r}, ip={self.ip!r})"


class RecipientKey(Base):
    """One version of a recipient's key, wrapped under the master key (None once destroyed)."""

    __tablename__ = "recipient_keys"
    __table_args__ = (UniqueConstraint("recipient_id", "version"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[Recipient] = relationship(back_populates="keys")

    def __repr__(self) -> str:
        state = "destroyed" if self.wrapped_key is None else "live"
        return (
            f"RecipientKey(recipient_id={self.recipient_id!r}, version={self.version!r}, {state})"
        )


class Admin(Base):
    """An administrator or helpdesk account of the admin frontend."""

    __tablename__ = "admins"
    __table_args__ = (
        Index("ix_admins_email", "email", unique=True),
        {**MYSQL_TABLE_OPTIONS, "sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(address_type())
    role: Mapped[str] = mapped_column(String(16), default="admin")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: "wrapped:" + base64 of the secret wrapped under the master key (see AdminService).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Written into every session cookie at login; raising it ends every session at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Wrong TOTP codes, counted apart from wrong passwords so a password cannot reset them.
    failed_codes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    codes_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The newest TOTP time step used to log in; a code is accepted once (see AdminService).
    last_totp_step: Mapped[int | None] = mapped_column(Integer)
    #: The language the admin chose for the admin pages ("en", "de"); None = the browser's.
    language: Mapped[str | None] = mapped_column(String(8))

    def __repr__(self) -> str:
        return f"Admin(id={self.id!r}, email={self.email!r}, role={self.role!r})"


class SettingValue(Base):
    """One admin setting, stored as JSON text under its name."""

    __tablename__ = "settings"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(long_text_type())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    def __repr__(self) -> str:
        return f"SettingValue(name={self.name!r})"


class LedgerEntry(Base):
    """Metadata of one sealed message for one recipient; never subject or content."""

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint("message_id", "recipient_id"),
        Index("ix_ledger_recipient_id", "recipient_id"),
        Index("ix_ledger_created_at", "created_at"),
        Index("ix_ledger_expires_at", "expires_at"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(255))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_version: Mapped[int] = mapped_column(Integer)
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(320))

    def __repr__(self) -> str:
        return f"LedgerEntry(message_id={self.message_id!r}, recipient_id={self.recipient_id!r})"


class RelayedMail(Base):
    """One mail the relay took for a received transaction: what a retry must not send again.

    `message` is a digest of the transaction as received (sender, recipients, bytes);
    `part` names one mail that came out of it. Nothing of the content or the addresses.
    """

    __tablename__ = "relayed"
    __table_args__ = (Index("ix_relayed_relayed_at", "relayed_at"), MYSQL_TABLE_OPTIONS)

    message: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[str] = mapped_column(String(32), primary_key=True)
    relayed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"RelayedMail(message={self.message!r}, part={self.part!r})"


class PortalMessage(Base):
    """A mail a recipient sent from the portal (a reply or a new message), by its Message-ID.

    The filter seals an adviser's answer to it even without a trigger (the thread rule).
    """

    __tablename__ = "portal_messages"
    __table_args__ = (
        Index("ix_portal_messages_sent_at", "sent_at"),
        MYSQL_TABLE_OPTIONS,
    )

    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"PortalMessage(message_id={self.message_id!r})"


class AuditEvent(Base):
    """One entry of the append-only audit log."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor", "actor"),
        Index("ix_audit_events_target", "target"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(320))
    target: Mapped[str] = mapped_column(String(320), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"AuditEvent(id={self.id!r}, action={self.action!r}, actor={self.actor!r})"


class Notice(Base):
    """A notice mail that was sent; (kind, key) is unique so each is sent once."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("kind", "key"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    recipient_id: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"Notice(kind={self.kind!r}, key={self.key!r})"


class Lease(Base):
    """A named lease so that only one instance runs a periodic job at a time."""

    __tablename__ = "leases"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"Lease(name={self.name!r}, holder={self.holder!r})"


class AdviserOption(Base):
    """Per-adviser choices, keyed by the adviser's normalized address."""

    __tablename__ = "adviser_options"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    address: Mapped[str] = mapped_column(address_type(), primary_key=True)
    read_receipts: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    def __repr__(self) -> str:
        return f"AdviserOption(address={self.address!r}, read_receipts={self.read_receipts!r})"


class MailboxMessage(Base):
    """A sealed message kept in a recipient's secure mailbox: ciphertext only.

    The envelope itself is in `MailboxChunk` rows; `summary` is a small envelope of its
    own (date, sender, subject, size) sealed under the same recipient key.
    """

    __tablename__ = "mailbox_messages"
    __table_args__ = (
        Index("ix_mailbox_messages_recipient_id_stored_at", "recipient_id", "stored_at"),
        Index("ix_mailbox_messages_expires_at", "expires_at"),
        Index("ix_mailbox_messages_message_id", "message_id"),
        UniqueConstraint("recipient_id", "message_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(255))
    key_version: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    size: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"MailboxMessage(id={self.id!r}, recipient_id={self.recipient_id!r})"


class MailboxChunk(Base):
    """One piece of a stored envelope, so no statement carries a whole message."""

    __tablename__ = "mailbox_chunks"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    entry_id: Mapped[str] = mapped_column(
        String(43), ForeignKey("mailbox_messages.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(blob_type())

    def __repr__(self) -> str:
        return f"MailboxChunk(entry_id={self.entry_id!r}, seq={self.seq!r})"


def huge_text_type() -> Any:
    """Text as large as a sealed message (LONGTEXT on MariaDB/MySQL)."""
    return Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


class ParkedEnvelope(Base):
    """A sealed message (ciphertext) kept for minutes while its reader takes a detour.

    Keyed by the SHA-256 of a token that only the reader's browser session holds; used once.
    """

    __tablename__ = "parked_envelopes"
    __table_args__ = (
        Index("ix_parked_envelopes_token_hash", "token_hash", unique=True),
        Index("ix_parked_envelopes_expires_at", "expires_at"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[str] = mapped_column(huge_text_type())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"ParkedEnvelope(id={self.id!r})"
