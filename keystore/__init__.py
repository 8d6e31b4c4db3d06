"""Keystore: recipient accounts and keys, admins, settings, message ledger and audit log."""

from keystore.admins import AdminAuthResult, AdminService
from keystore.audit import AuditService
from keystore.clock import Clock, utcnow
from keystore.db import Keystore
from keystore.errors import (
    KeystoreError,
    KeystoreUnavailable,
    MasterKeyError,
    NotFound,
    SettingsError,
)
from keystore.leases import LeaseService
from keystore.ledger import LedgerService
from keystore.mailbox import MailboxEntry, MailboxFull, MailboxService
from keystore.masterkey import MasterKey, load_master_key
from keystore.masterrotation import rotate_master_key
from keystore.noticelog import NoticeService
from keystore.recipients import AuthResult, KeyMaterial, RecipientService
from keystore.settings import Settings, SettingsService

__all__ = [
    "AdminAuthResult",
    "AdminService",
    "AuditService",
    "AuthResult",
    "Clock",
    "KeyMaterial",
    "Keystore",
    "KeystoreError",
    "KeystoreUnavailable",
    "LeaseService",
    "LedgerService",
    "MailboxEntry",
    "MailboxFull",
    "MailboxService",
    "MasterKey",
    "MasterKeyError",
    "NotFound",
    "NoticeService",
    "RecipientService",
    "Settings",
    "SettingsError",
    "SettingsService",
    "load_master_key",
    "rotate_master_key",
    "utcnow",
]
