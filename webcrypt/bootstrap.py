"""First start: create the data folder, the master key, the session key and the schema."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from keystore.db import Keystore
from keystore.errors import MasterKeyError
from keystore.masterkey import MasterKey, load_master_key
from webcrypt.config.loader import Config

MASTER_KEY_ENV = "WEBCRYPT_KEYSTORE_MASTER_KEY"
SESSION_KEY_ENV = "WEBCRYPT_PORTAL_SECRET_KEY"


@dataclass
class InitReport:
    """What `initialize` found and what it created."""

    created: list[str]
    master_key: MasterKey


def is_embedded_default(config: Config) -> bool:
    """Tell whether the keystore is the SQLite file inside the data folder."""
    url = str(config.keystore.url)
    return url.startswith("sqlite:///") and Path(url.removeprefix("sqlite:///")).is_relative_to(
        config.data_dir
    )


def initialize(config: Config, *, create_master_key: bool = True) -> InitReport:
    """Create what is missing (idempotent) and bring the schema to the newest version."""
    created: list[str] = []
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if config.filter.relay.startswith("outbox:"):
        outbox = Path(config.filter.relay.removeprefix("outbox:"))
        if not outbox.exists():
            outbox.mkdir(parents=True)
            created.append(f"outbox {outbox}")

    key_path = Path(config.keystore.master_key_file)
    if os.environ.get(MASTER_KEY_ENV) or key_path.exists():
        master_key = load_master_key(key_path)
    elif create_master_key:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        master_key = MasterKey.generate()
        master_key.create_file(key_path)
        created.append(f"master key {key_path}")
    else:
        raise MasterKeyError(
            f"master key file {key_path} does not exist; run `webcrypt init` once, "
            f"or set {MASTER_KEY_ENV}"
        )

    session_path = Path(config.portal.secret_key_file)
    if not os.environ.get(SESSION_KEY_ENV) and not session_path.exists():
        write_secret_file(session_path, secrets.token_urlsafe(48).encode())
        created.append(f"session key {session_path}")

    keystore = Keystore(config.keystore.url, master_key=master_key)
    try:
        if not keystore.is_current():
            keystore.upgrade()
            created.append("keystore schema (migrated to the newest version)")
    finally:
        keystore.engine.dispose()
    return InitReport(created=created, master_key=master_key)


def write_secret_file(path: Path, content: bytes) -> None:
    """Write a file readable by its owner only, refusing to replace an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def read_session_secret(config: Config) -> str:
    """Return the portal's session-signing secret from the environment or its file."""
    from_env = os.environ.get(SESSION_KEY_ENV)
    if from_env:
        return from_env
    path = Path(config.portal.secret_key_file)
    try:
        if path.stat().st_mode & 0o077:
            raise MasterKeyError(
                f"session key file {path} is readable by other users; run `chmod 600 {path}`"
            )
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise MasterKeyError(
            f"session key file {path} does not exist; run `webcrypt init` or set {SESSION_KEY_ENV}"
        ) from None
