"""Configuration: one typed schema with default, help and validator per option.

Owns: every option (`options`) and reading the file and the environment into a `Config`
(`loader`). May import: `webcrypt.mail` (the MIME limits' defaults) and the value parsers
it shares with the admin settings (`keystore.values`).
"""
