"""Keystore: recipient accounts and keys, admins, settings, message ledger and audit log."""

from keystore.db import Keystore
from keystore.errors import (
    KeystoreError,
    KeystoreUnavailable,
    MasterKeyError,
    NotFound,
    SettingsError,
)
from keystore.masterkey import MasterKey, load_master_key, rotate_master_key
from keystore.recipients import AuthResult, KeyMaterial, RecipientService
from keystore.settings import Settings, SettingsService

__all__ = [
    "AuthResult",
    "KeyMaterial",
    "Keystore",
    "KeystoreError",
    "KeystoreUnavailable",
    "MasterKey",
    "MasterKeyError",
    "NotFound",
    "RecipientService",
    "Settings",
    "SettingsError",
    "SettingsService",
    "load_master_key",
    "rotate_master_key",
]
