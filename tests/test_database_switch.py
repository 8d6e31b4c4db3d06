"""`make test` runs the database tests when the servers answer, and says so when it cannot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import database_servers_wanted

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("setting", "ci", "wanted"),
    [("1", "", True), ("0", "", False), ("0", "true", True), ("yes", "", True)],
)
def test_the_switch_and_ci_decide_before_the_ports(
    monkeypatch: pytest.MonkeyPatch, setting: str, ci: str, wanted: bool
) -> None:
    monkeypatch.setenv("WEBCRYPT_TEST_DATABASES", setting)
    monkeypatch.setenv("CI", ci)
    assert database_servers_wanted("postgresql") is wanted
    assert database_servers_wanted("mariadb") is wanted


@pytest.mark.slow
def test_skipped_database_tests_are_counted_in_the_last_line() -> None:
    env = {"WEBCRYPT_TEST_DATABASES": "0", "CI": "", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q"),
            "tests/keystore/test_settings.py::test_defaults",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.rstrip().splitlines()[-1]
    assert last.startswith("2 tests skipped"), done.stdout
    assert "2 of them need the database servers" in last
    assert "127.0.0.1:5432" in last and "WEBCRYPT_TEST_DATABASES=1" in last
