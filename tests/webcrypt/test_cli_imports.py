"""`webcrypt --version` and `--help` load neither the keystore's database layer nor the filter
nor the portal: each command imports what it needs when it runs (`webcrypt.cli.main`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "alembic", "flask", "werkzeug", "waitress", "aiosmtpd", "cryptography")
"""Libraries a command that does not use them must not load."""

LIGHT_KEYSTORE = {
    "keystore",
    "keystore.addresses",
    "keystore.errors",
    "keystore.roles",
    "keystore.values",
}
"""Keystore modules without a database that --help may load (errors, roles, value parsers)."""


def loaded_modules(*args: str) -> set[str]:
    """Run `webcrypt ARGS` as its own process; return the modules it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "webcrypt.cli.main", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert "webcrypt.cli.main" in modules or "webcrypt.cli" in modules, result.stderr[-2000:]
    return modules


@pytest.mark.parametrize("option", ["--version", "--help"])
def test_version_and_help_load_no_database_filter_or_portal(option: str) -> None:
    modules = loaded_modules(option)
    heavy = sorted(name for name in modules if name.split(".")[0] in HEAVY)
    assert heavy == []
    keystore = {name for name in modules if name.split(".")[0] == "keystore"}
    assert keystore <= LIGHT_KEYSTORE
    assert not any(
        name.startswith(("portal", "webcrypt.smtp", "webcrypt.runtime")) for name in modules
    )
    # Nor what only one command needs: mail sending and parsing, the configuration schema.
    assert {"smtplib", "email.parser", "webcrypt.config.loader"}.isdisjoint(modules)


def test_the_check_sees_what_a_command_loads() -> None:
    # `config --reference` reads the schema: the check must see the loader it imports.
    assert "webcrypt.config.loader" in loaded_modules("config", "--reference")
