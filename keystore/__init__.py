"""Keystore: recipient accounts and keys, admins, settings, message ledger and audit log.

Import the module that holds what you need (`keystore.db` for `Keystore`, `keystore.errors`,
`keystore.masterkey`, ...): this package imports none of them itself, so that a command that
does not touch the database (``webcrypt --version``, ``inspect``) never loads SQLAlchemy.
"""
