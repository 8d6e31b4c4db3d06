"""Configuration: one typed schema with default, help and validator per option.

Owns: every option (`options`), its error (`errors`) and reading the file and the
environment into a `Config` (`loader`). May import: only the value parsers it shares with
the admin settings (`keystore.values`).
"""
