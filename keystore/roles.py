"""The roles of admin-frontend accounts (no database: the command line lists them in --help)."""

ROLES = ("admin", "helpdesk")
"""admin: everything; helpdesk: recipient accounts only."""
