import pytest
from sqlalchemy import select

from keystore.db import Keystore
from keystore.errors import MasterKeyError
from keystore.masterkey import MasterKey
from keystore.masterrotation import rotate_master_key
from keystore.models import RecipientKey
from tests.keystore.conftest import FakeClock, fast_hasher


def make_keys(keystore: Keystore) -> dict[tuple[int, int], bytes]:
    keys = {}
    with keystore.session() as session:
        service = keystore.recipients(session)
        for address in ("a@example.com", "b@example.com"):
            recipient, _ = service.get_or_create(address, created_by="adviser@bank")
            service.rotate_key(recipient)
            for version in (1, 2):
                key = service.key(recipient.id, version)
                assert key is not None
                keys[recipient.id, version] = key
        first = next(iter(keys))
        service.destroy_key_version(*first)
        del keys[first]
    return keys


def test_rotate_master_rewraps_every_live_key(
    keystore: Keystore, keystore_url: str, master_key: MasterKey, clock: FakeClock
) -> None:
    keys = make_keys(keystore)
    new_key = MasterKey.generate()
    assert rotate_master_key(keystore, new_key) == 3
    assert keystore.master_key is new_key
    with keystore.session() as session:
        rows = session.scalars(select(RecipientKey).where(RecipientKey.wrapped_key.is_not(None)))
        assert {row.master_key_id for row in rows} == {new_key.key_id}
    fresh = Keystore(keystore_url, master_key=new_key, clock=clock, hasher=fast_hasher())
    with fresh.session() as session:
        service = fresh.recipients(session)
        for (recipient_id, version), key in keys.items():
            assert service.key(recipient_id, version) == key
    fresh.dispose()
    stale = Keystore(keystore_url, master_key=master_key, clock=clock, hasher=fast_hasher())
    with stale.session() as session, pytest.raises(MasterKeyError):
        stale.recipients(session).key(*next(iter(keys)))
    stale.dispose()


def test_rotate_master_changes_nothing_when_a_key_cannot_be_opened(keystore: Keystore) -> None:
    keys = make_keys(keystore)
    with keystore.session() as session:
        row = session.scalars(select(RecipientKey).order_by(RecipientKey.id.desc())).first()
        assert row is not None and row.wrapped_key is not None
        row.wrapped_key = row.wrapped_key[:-1] + bytes([row.wrapped_key[-1] ^ 1])
        broken = (row.recipient_id, row.version)
    old_key = keystore.master_key
    with pytest.raises(MasterKeyError):
        rotate_master_key(keystore, MasterKey.generate())
    assert keystore.master_key is old_key
    with keystore.session() as session:
        service = keystore.recipients(session)
        for ident, key in keys.items():
            if ident != broken:
                assert service.key(*ident) == key


def test_rotate_master_rewraps_admin_totp_secrets(
    keystore: Keystore, keystore_url: str, master_key: MasterKey, clock: FakeClock
) -> None:
    with keystore.session() as session:
        admins = keystore.admins(session)
        admins.set_totp_secret(admins.create("a@bank.example", password="x"), "JBSWY3DPEHPK3PXP")
        admins.create("b@bank.example", password="x")
    rotate_master_key(keystore, MasterKey.generate())
    with keystore.session() as session:
        admins = keystore.admins(session)
        first, second = admins.get("a@bank.example"), admins.get("b@bank.example")
        assert first is not None and second is not None
        assert admins.totp_secret(first) == "JBSWY3DPEHPK3PXP"
        assert admins.totp_secret(second) is None
    stale = Keystore(keystore_url, master_key=master_key, clock=clock, hasher=fast_hasher())
    with stale.session() as session, pytest.raises(MasterKeyError):
        admin = stale.admins(session).get("a@bank.example")
        assert admin is not None
        stale.admins(session).totp_secret(admin)
    stale.dispose()
