"""Running the `webcrypt` command in tests: a clean working folder and an in-process runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webcrypt.cli.main import main


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
