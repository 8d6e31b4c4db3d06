"""The master key that wraps every recipient key at rest (AES-256-GCM)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from keystore.errors import MasterKeyError
from keystore.models import Admin, Recipient, RecipientKey

if TYPE_CHECKING:
    from keystore.db import Keystore

ENV_VAR = "WEBCRYPT_KEYSTORE_MASTER_KEY"
KEY_SIZE = 32
_NONCE_SIZE = 12
_BLOB_VERSION = b"\x01"


def _decode(text: str, source: str) -> bytes:
    """Decode a base64 master key, raising MasterKeyError that names `source`."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError(
            f"the master key in {source} is not valid base64; restore it from your backup"
        ) from exc
    if len(raw) != KEY_SIZE:
        raise MasterKeyError(
            f"the master key in {source} is {len(raw)} bytes long, expected {KEY_SIZE}; "
            "restore it from your backup"
        )
    return raw


#: Marks a secret in a text column stored wrapped under the master key; anything else is a
#: clear value written by an older release (read as it is, wrapped when next written).
WRAPPED_TEXT = "wrapped:"


def is_wrapped_text(stored: str | None) -> TypeGuard[str]:
    """Tell whether a text column holds a value written by `MasterKey.wrap_text`."""
    return stored is not None and stored.startswith(WRAPPED_TEXT)


class MasterKey:
    """A 256-bit key that encrypts recipient keys, bound to their account id and version."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise MasterKeyError(f"a master key must be {KEY_SIZE} bytes, got {len(key)}")
        self._key = bytes(key)
        self._aead = AESGCM(self._key)

    @classmethod
    def generate(cls) -> MasterKey:
        """Return a new random master key."""
        return cls(os.urandom(KEY_SIZE))

    @classmethod
    def from_base64(cls, text: str, *, source: str = "the given text") -> MasterKey:
        """Parse the base64 form used by the key file and the environment variable."""
        return cls(_decode(text, source))

    def to_base64(self) -> str:
        """Return the base64 form (for the key file or the environment variable)."""
        return base64.b64encode(self._key).decode("ascii")

    @property
    def key_id(self) -> str:
        """A short fingerprint of the key, safe to log and to store next to wrapped keys."""
        digest = hashlib.sha256(b"webcrypt master key id\x00" + self._key).hexdigest()
        return digest[:16]

    def create_file(self, path: str | os.PathLike[str]) -> Path:
        """Write the key to a new file readable only by its owner (0600); never overwrite."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise MasterKeyError(
                f"master key file {target} already exists; refusing to overwrite it"
            ) from exc
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (self.to_base64() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return target

    @classmethod
    def load_file(cls, path: str | os.PathLike[str]) -> MasterKey:
        """Read a key file, refusing one that group or others may access."""
        source = Path(path)
        try:
            info = source.stat()
        except FileNotFoundError as exc:
            raise MasterKeyError(
                f"master key file {source} does not exist; run `webcrypt init` to create one "
                f"or set {ENV_VAR}"
            ) from exc
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise MasterKeyError(
                f"master key file {source} is accessible by group or others (mode {mode:04o}); "
                f"run `chmod 600 {source}` and make sure only the service user owns it"
            )
        try:
            text = source.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise MasterKeyError(
                f"cannot read master key file {source} ({exc}); check the file"
            ) from exc
        return cls(_decode(text, f"file {source}"))

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt `plaintext` bound to `aad`; returns version byte + nonce + ciphertext."""
        nonce = os.urandom(_NONCE_SIZE)
        return _BLOB_VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def wrap_text(self, text: str, aad: bytes) -> str:
        """Wrap a short secret for a text column: `WRAPPED_TEXT` + base64 of `wrap`."""
        blob = self.wrap(text.encode("utf-8"), aad)
        return WRAPPED_TEXT + base64.b64encode(blob).decode("ascii")

    def unwrap_text(self, stored: str | None, aad: bytes, *, damaged: str) -> str | None:
        """Return the clear text of a column written by `wrap_text`.

        A value without the `WRAPPED_TEXT` mark was written in clear by an older release and
        is returned as it is (None stays None). `damaged` is the error message for a value
        that is not valid base64.
        """
        if not is_wrapped_text(stored):
            return stored
        try:
            blob = base64.b64decode(stored.removeprefix(WRAPPED_TEXT), validate=True)
        except binascii.Error as exc:
            raise MasterKeyError(damaged) from exc
        return self.unwrap(blob, aad).decode("utf-8")

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt a blob from `wrap`; raises MasterKeyError when it was not made with this key
        and `aad`."""
        if len(blob) < 1 + _NONCE_SIZE + 16 or blob[:1] != _BLOB_VERSION:
            raise MasterKeyError("wrapped key is malformed")
        nonce, ciphertext = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag as exc:
            raise MasterKeyError(
                "a stored key cannot be decrypted with this master key; is the right master key "
                "configured?"
            ) from exc

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return self.key_id == other.key_id

    def __hash__(self) -> int:
        return hash(self.key_id)


def load_master_key(
    path: str | os.PathLike[str],
    environ: Mapping[str, str] = os.environ,
    *,
    create: bool = False,
) -> MasterKey:
    """Load the master key from the environment variable (wins) or the file at `path`.

    With `create=True` a missing file is created with a new random key.
    """
    value = environ.get(ENV_VAR, "").strip()
    if value:
        return MasterKey.from_base64(value, source=f"environment variable {ENV_VAR}")
    if create and not Path(path).exists():
        key = MasterKey.generate()
        key.create_file(path)
        return key
    return MasterKey.load_file(path)


def key_aad(recipient_id: int, version: int) -> bytes:
    """Associated data that binds a wrapped recipient key to its account and version."""
    return f"webcrypt-keystore/recipient-key/v1:{recipient_id}:{version}".encode("ascii")


def rotate_master_key(keystore: Keystore, new_key: MasterKey) -> int:
    """Re-wrap every live recipient key, security phrase and admin TOTP secret under `new_key`.

    The keystore's current master key must open every one; nothing is changed when one
    fails. Afterwards the keystore uses `new_key`. Returns the number of recipient keys
    re-wrapped.
    """
    # cycle: keystore.admins and keystore.recipients import this module.
    from keystore.admins import AdminService
    from keystore.recipients import RecipientService

    old_key = keystore.master_key
    count = 0
    with keystore.session() as session:
        rows = session.scalars(
            select(RecipientKey).where(RecipientKey.wrapped_key.is_not(None)).with_for_update()
        )
        for row in rows:
            assert row.wrapped_key is not None
            aad = key_aad(row.recipient_id, row.version)
            row.wrapped_key = new_key.wrap(old_key.unwrap(row.wrapped_key, aad), aad)
            row.master_key_id = new_key.key_id
            count += 1
        old_admins = AdminService(session, master_key=old_key)
        new_admins = AdminService(session, master_key=new_key)
        for admin in session.scalars(
            select(Admin).where(Admin.totp_secret.is_not(None)).with_for_update()
        ):
            new_admins.set_totp_secret(admin, old_admins.totp_secret(admin))
        old_recipients = RecipientService(session, master_key=old_key)
        new_recipients = RecipientService(session, master_key=new_key)
        for recipient in session.scalars(
            select(Recipient).where(Recipient.security_phrase.is_not(None)).with_for_update()
        ):
            phrase = old_recipients.security_phrase(recipient)
            new_recipients.set_security_phrase(recipient, phrase)
    keystore.master_key = new_key
    return count
