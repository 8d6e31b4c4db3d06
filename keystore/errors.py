"""Errors raised by the keystore, written for the operator or user who reads them."""

from __future__ import annotations


class KeystoreError(Exception):
    """Base class of every keystore error."""


class KeystoreUnavailable(KeystoreError):
    """The keystore database cannot be reached right now; try again later."""


class DatabaseError(KeystoreError):
    """The database refused a statement (a bug or a schema mismatch, not an outage)."""


class DuplicateRecord(DatabaseError):
    """A row with the same unique key exists already (another writer was first)."""


class MasterKeyError(KeystoreError):
    """The master key is missing, corrupt or unsafely stored; the message says what to do."""


class SettingsError(KeystoreError):
    """One or more settings were rejected; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        fields = ", ".join(f"{name}: {message}" for name, message in sorted(self.errors.items()))
        super().__init__(f"invalid settings ({fields})")


class NotFound(KeystoreError):
    """The requested record does not exist."""
