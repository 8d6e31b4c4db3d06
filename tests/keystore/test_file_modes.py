"""The keystore's files on disk are readable by the service user only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from webcrypt.bootstrap import initialize
from webcrypt.config.loader import load_config


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets group and others read new files (a common system default)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_keystore_and_its_journal_files_are_0600(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "data" / "keystore.db"
    keystore = Keystore(f"sqlite:///{path}", master_key=MasterKey.generate())
    try:
        keystore.upgrade()
        with keystore.session() as session:
            keystore.recipients(session).get_or_create("c@cust.example", created_by="a@b.example")
        files = [path, path.with_name("keystore.db-wal"), path.with_name("keystore.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(path.parent) == 0o700
    finally:
        keystore.engine.dispose()


def test_an_existing_keystore_keeps_its_mode(tmp_path: Path, open_umask: None) -> None:
    """An operator's own choice on an existing file is not changed behind their back."""
    path = tmp_path / "keystore.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    keystore = Keystore(f"sqlite:///{path}", master_key=MasterKey.generate())
    try:
        keystore.upgrade()
    finally:
        keystore.engine.dispose()
    assert mode(path) == 0o640


def test_init_creates_master_key_session_key_and_keystore_0600(
    tmp_path: Path, open_umask: None
) -> None:
    config = load_config(None, environ={"WEBCRYPT_GENERAL_DATA_DIR": str(tmp_path / "var")})
    initialize(config)
    var = tmp_path / "var"
    assert mode(var / "master.key") == 0o600
    assert mode(var / "session.key") == 0o600
    assert mode(var / "keystore.db") == 0o600
    assert mode(var) == 0o700
