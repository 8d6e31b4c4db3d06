import base64
import os
import stat
from pathlib import Path

import pytest

from keystore.errors import MasterKeyError
from keystore.masterkey import ENV_VAR, MasterKey, key_aad, load_master_key


def test_create_file_is_owner_only_and_loads_back(tmp_path: Path) -> None:
    key = MasterKey.generate()
    path = key.create_file(tmp_path / "var" / "master.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.load_file(path) == key


def test_create_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = MasterKey.generate().create_file(tmp_path / "master.key")
    before = path.read_bytes()
    with pytest.raises(MasterKeyError, match="already exists"):
        MasterKey.generate().create_file(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_load_refuses_group_or_other_access(tmp_path: Path, mode: int) -> None:
    path = MasterKey.generate().create_file(tmp_path / "master.key")
    os.chmod(path, mode)
    with pytest.raises(MasterKeyError, match=r"chmod 600") as info:
        MasterKey.load_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content",
    ["not base64 at all!", base64.b64encode(b"short").decode(), "", "\xff"],
)
def test_load_refuses_corrupt_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content, encoding="latin-1")
    os.chmod(path, 0o600)
    with pytest.raises(MasterKeyError, match="master key"):
        MasterKey.load_file(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="webcrypt init"):
        load_master_key(tmp_path / "missing.key", environ={})


def test_environment_wins_over_file(tmp_path: Path) -> None:
    file_key = MasterKey.generate()
    path = file_key.create_file(tmp_path / "master.key")
    env_key = MasterKey.generate()
    assert load_master_key(path, environ={ENV_VAR: env_key.to_base64()}) == env_key
    assert load_master_key(path, environ={}) == file_key


def test_corrupt_environment_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match=ENV_VAR):
        load_master_key(tmp_path / "x", environ={ENV_VAR: "bm9wZQ=="})


def test_load_can_create(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    created = load_master_key(path, environ={}, create=True)
    assert load_master_key(path, environ={}) == created


def test_wrap_unwrap_bound_to_account_and_version() -> None:
    key = MasterKey.generate()
    secret = os.urandom(32)
    blob = key.wrap(secret, key_aad(7, 1))
    assert key.unwrap(blob, key_aad(7, 1)) == secret
    assert secret not in blob
    for wrong in (key_aad(8, 1), key_aad(7, 2)):
        with pytest.raises(MasterKeyError):
            key.unwrap(blob, wrong)
    with pytest.raises(MasterKeyError):
        MasterKey.generate().unwrap(blob, key_aad(7, 1))
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(MasterKeyError):
        key.unwrap(bytes(tampered), key_aad(7, 1))


def test_wrap_uses_fresh_nonces() -> None:
    key = MasterKey.generate()
    assert key.wrap(b"x" * 32, b"aad") != key.wrap(b"x" * 32, b"aad")


def test_repr_and_key_id_hide_the_key() -> None:
    key = MasterKey.generate()
    assert key.to_base64() not in repr(key)
    assert len(key.key_id) == 16
    assert key.key_id != MasterKey.generate().key_id


def test_create_file_makes_its_directory_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = MasterKey.generate().create_file(tmp_path / "new" / "var" / "master.key")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_key_file_is_owner_only_from_its_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mode given to open() is what protects the file before fchmod() runs.
    monkeypatch.setattr(os, "fchmod", lambda fd, mode: None)
    previous = os.umask(0)
    try:
        path = MasterKey.generate().create_file(tmp_path / "master.key")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_with_a_character_outside_base64_is_refused() -> None:
    text = MasterKey.generate().to_base64()
    with pytest.raises(MasterKeyError, match="not valid base64"):
        MasterKey.from_base64(text[:10] + "!" + text[10:])
