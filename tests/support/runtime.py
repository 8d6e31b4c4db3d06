"""A runtime on a fresh folder for tests and benchmarks; sealing mail as the filter does, and
storing it in a secure mailbox as delivery does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from keystore.mailbox import new_entry_id
from keystore.masterkey import MasterKey
from keystore.passwords import Hasher, make_context
from tests.support.keystores import is_fresh_copy, migrated_sqlite
from webcrypt import envelope
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime
from webcrypt.sealing.summary import seal_summary, summarize


def fast_hasher() -> Hasher:
    """Argon2id with minimal cost, so tests stay quick."""
    return Hasher(make_context(memory_kib=1024, time_cost=1, parallelism=1))


def folder_environ(folder: Path, **overrides: str) -> dict[str, str]:
    """WEBCRYPT_* settings of a runtime whose keystore, keys and outbox live in `folder`."""
    return {
        "WEBCRYPT_KEYSTORE_URL": migrated_sqlite(folder / "keystore.db"),
        "WEBCRYPT_KEYSTORE_MASTER_KEY_FILE": str(folder / "master.key"),
        "WEBCRYPT_PORTAL_SECRET_KEY_FILE": str(folder / "session.key"),
        "WEBCRYPT_FILTER_RELAY": f"outbox:{folder / 'outbox'}",
        "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
        **overrides,
    }


def build_runtime(environ: dict[str, str], *, fast: bool = True, **options: Any) -> Runtime:
    """A migrated runtime on `environ` with a fresh master key; `options` go to `Runtime`.

    `fast` makes password hashing cheap: tests and benchmarks that log in often would
    otherwise spend their time in argon2.
    """
    runtime = Runtime(load_config(environ=environ), master_key=MasterKey.generate(), **options)
    if fast:
        runtime.keystore.hasher = fast_hasher()
    if not is_fresh_copy(str(runtime.config.keystore.url)):
        runtime.keystore.upgrade()
    return runtime


@dataclass
class Sealed:
    """A message sealed like the filter does: envelope text, header, account and ledger row."""

    armored: str
    header: envelope.Header
    recipient: str
    recipient_id: int
    message_id: str
    pin: str | None


def seal_for(
    runtime: Runtime,
    raw: bytes,
    *,
    to: str,
    sender: str,
    days: int,
    message_id: str | None = None,
    record: bool = True,
) -> Sealed:
    """Seal `raw` for `to` as the filter does: account, current key, envelope, ledger row.

    The account is created when needed (its first PIN is returned); with `record` false the
    ledger row is left out, as when the filter failed after sealing.
    """
    message_id = message_id or f"{uuid.uuid4().hex}@bank.example"
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipient, pin = recipients.get_or_create(to, created_by=sender)
        material = recipients.current_key(recipient)
        now = runtime.clock()
        expires = now + timedelta(days=days)
        key = envelope.RecipientKey(
            address=recipient.address,
            key_id=material.key_id,
            key_version=material.version,
            key=material.key,
        )
        sealed = envelope.seal(
            raw,
            [key],
            sender=sender,
            message_id=message_id,
            portal_url=str(runtime.config.portal.public_url),
            expires=expires,
            now=now,
        )
        if record:
            runtime.keystore.ledger(session).record_sealed(
                message_id=message_id,
                recipient_id=recipient.id,
                sender=sender,
                created=now,
                expires=expires,
                key_version=material.version,
            )
        address = recipient.address
        return Sealed(
            sealed.armored(address),
            sealed.headers[address],
            address,
            recipient.id,
            message_id,
            pin,
        )


def store_sealed(
    runtime: Runtime,
    raw: bytes,
    sealed: Sealed,
    *,
    summary: bytes | None = None,
    message_id: str | None = None,
    quota: int | None = None,
) -> str:
    """Store `sealed` (the envelope of `raw`) in its recipient's mailbox; return the entry id.

    Without `summary` the summary of `raw` is sealed for the recipient as delivery does; a
    `message_id` stores the envelope again as another message; `quota` overrides the setting.
    """
    header = sealed.header
    message_id = message_id or sealed.message_id
    now = runtime.clock()
    with runtime.keystore.session() as session:
        if summary is None:
            key = runtime.keystore.recipients(session).key(sealed.recipient_id, header.key_version)
            assert key is not None
            recipient = envelope.RecipientKey(
                address=sealed.recipient,
                key_id=header.key_id,
                key_version=header.key_version,
                key=bytes(key),
            )
            summary = seal_summary(
                summarize(raw, now=now),
                [recipient],
                sender=header.sender,
                message_id=message_id,
                portal_url=str(runtime.config.portal.public_url),
                expires=header.expires,
                now=now,
            )[sealed.recipient]
        entry = runtime.keystore.mailbox(session).store(
            sealed.recipient_id,
            new_entry_id(),
            message_id=message_id,
            key_version=header.key_version,
            envelope=sealed.armored.encode("ascii"),
            summary=summary,
            expires_at=header.expires,
            quota=quota,
        )
        return entry.id
