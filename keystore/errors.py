"""Errors raised by the keystore, written for the operator or user who reads them."""

from __future__ import annotations

from collections.abc import Mapping


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


class InvalidValue(ValueError):
    """A value was refused; `str()` of it is the English message.

    `template` is that message in English with ``%(name)s`` fields filled from `params`, so a
    user interface can show it in its own language: the portal's catalogue translates every
    template (`portal/translations/refresh.py` extracts each ``InvalidValue("...")`` call).
    A rule that compares two settings names the other one in the parameter ``other`` (its
    key), which a page may show by its label.
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


class SettingsError(KeystoreError):
    """One or more settings were rejected; `problems` maps each field to why.

    `errors` gives the same in English text, for logs and the command line.
    """

    def __init__(self, problems: Mapping[str, InvalidValue]) -> None:
        self.problems = dict(problems)
        self.errors = {name: str(problem) for name, problem in self.problems.items()}
        fields = ", ".join(f"{name}: {message}" for name, message in sorted(self.errors.items()))
        super().__init__(f"invalid settings ({fields})")


class NotFound(KeystoreError):
    """The requested record does not exist."""
