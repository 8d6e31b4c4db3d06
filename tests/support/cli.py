"""Running the `webcrypt` command in tests: a clean working folder, an in-process runner, and
the environment of `webcrypt serve` as a child process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webcrypt.cli.main import main

WEBCRYPT = [sys.executable, "-m", "webcrypt.cli.main"]
"""The `webcrypt` command as a child process of this Python."""


def clean_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make `tmp_path` the current folder, with no WEBCRYPT_* settings from outside."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("WEBCRYPT_"):
            monkeypatch.delenv(name)
    return tmp_path


def run(*args: str, input: str | None = None) -> Result:
    """Run `webcrypt ARGS...` in this process and return click's result."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def clean_environment(**overrides: str) -> dict[str, str]:
    """Return this process's environment without WEBCRYPT_* variables, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCRYPT_")}
    env.update(overrides)
    return env


def serve_environ(smtp_port: int, http_port: int, **extra: str) -> dict[str, str]:
    """`clean_environment` with the loopback ports of `webcrypt serve` (filter on `smtp_port`,
    portal on `http_port`) and `extra`."""
    return clean_environment(
        WEBCRYPT_FILTER_LISTEN=f"127.0.0.1:{smtp_port}",
        WEBCRYPT_PORTAL_LISTEN=f"127.0.0.1:{http_port}",
        WEBCRYPT_PORTAL_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
        **extra,
    )
