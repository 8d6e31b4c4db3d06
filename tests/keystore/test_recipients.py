import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from keystore.db import Keystore
from keystore.errors import NotFound
from keystore.lockout import purge_pairs, throttled_until
from keystore.masterkey import key_aad
from keystore.models import RecipientKey
from keystore.passwords import Hasher, make_context
from tests.keystore.conftest import FakeClock
from tests.support.accounts import account_of

ADVISER = "adviser@bank.example"


def create(ks: Keystore, address: str = "Kunde@Example.com") -> tuple[int, str]:
    with ks.session() as session:
        recipient, pin = ks.recipients(session).get_or_create(address, created_by=ADVISER)
        assert pin is not None
        return recipient.id, pin


def test_get_or_create_creates_once_with_pin_and_first_key(keystore: Keystore) -> None:
    recipient_id, pin = create(keystore)
    assert re.fullmatch(r"\d{4} \d{4}", pin)
    with keystore.session() as session:
        service = keystore.recipients(session)
        again, second_pin = service.get_or_create("<kunde@example.com#secure>", created_by="x")
        assert (again.id, second_pin) == (recipient_id, None)
        assert again.address == "kunde@example.com"
        assert again.created_by == ADVISER
        assert again.created_at == keystore.clock()
        assert again.status == "active" and again.needs_pin
        assert pin.replace(" ", "") not in (again.pin_hash or "")
        material = service.current_key(again)
        assert (material.recipient_id, material.version, len(material.key)) == (recipient_id, 1, 32)
        assert material.key_id == again.key_id
        assert material.key.hex() not in repr(material)
        assert "hash" not in repr(again)


def test_get_by_id_and_unknown(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, found):
        assert found.id == recipient_id
        assert service.get("nobody@example.com") is None
        assert service.get("not an address") is None
        assert service.get_by_id(recipient_id + 1000) is None


def test_keys_are_wrapped_under_the_master_key_with_aad(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    with keystore.session() as session:
        key = keystore.recipients(session).key(recipient_id, 1)
        row = session.scalars(select(RecipientKey)).one()
        assert key is not None and row.wrapped_key is not None
        assert key not in row.wrapped_key
        assert row.master_key_id == keystore.master_key.key_id
        assert keystore.master_key.unwrap(row.wrapped_key, key_aad(recipient_id, 1)) == key


def test_rotate_and_destroy_key_versions(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        first = service.current_key(recipient)
        assert service.rotate_key(recipient) == 2
        second = service.current_key(recipient)
        assert second.version == 2 and second.key != first.key
        assert service.key(recipient_id, 1) == first.key
        service.destroy_key_version(recipient_id, 1)
        assert service.key(recipient_id, 1) is None
        rows = service.key_versions(recipient)
        assert [(row.version, row.destroyed_at) for row in rows] == [
            (1, keystore.clock()),
            (2, None),
        ]
        assert service.key(recipient_id, 3) is None
        assert service.current_key(recipient).version == 2
        with pytest.raises(NotFound):
            service.destroy_key_version(recipient_id, 9)
        service.destroy_key_version(recipient_id, 2)
        with pytest.raises(NotFound):
            service.current_key(recipient)


def test_rotate_all_keys(keystore: Keystore) -> None:
    a, _ = create(keystore, "a@example.com")
    create(keystore, "b@example.com")
    with keystore.session() as session:
        assert keystore.recipients(session).rotate_all_keys() == 2
        recipient = keystore.recipients(session).get_by_id(a)
        assert recipient is not None
        rows = keystore.recipients(session).key_versions(recipient)
        assert [(row.recipient_id, row.version) for row in rows] == [(a, 1), (a, 2)]
    with keystore.session() as session:
        versions = session.scalars(select(RecipientKey.version)).all()
        assert sorted(versions) == [1, 1, 2, 2]


def test_pin_then_password_login(keystore: Keystore) -> None:
    _, pin = create(keystore)
    with keystore.session() as session:
        service = keystore.recipients(session)
        assert service.authenticate("kunde@example.com", "anything").outcome == "pin_required"
        assert service.authenticate_pin("kunde@example.com", "0000 0000").outcome in {"bad"}
        result = service.authenticate_pin("KUNDE@example.com", pin.replace(" ", "-"))
        assert result.outcome == "ok" and result.recipient is not None
        service.set_password(result.recipient, "correct horse")
        assert result.recipient.pin_hash is None
        assert service.authenticate_pin("kunde@example.com", pin).outcome == "password_required"
        ok = service.authenticate("kunde@example.com", "correct horse")
        assert ok.outcome == "ok" and ok.recipient is result.recipient
        assert service.authenticate("kunde@example.com", "wrong").outcome == "bad"


def test_reset_pin_clears_password(keystore: Keystore) -> None:
    recipient_id, old_pin = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        service.set_password(recipient, "secret")
        new_pin = service.reset_pin(recipient)
        assert service.authenticate("kunde@example.com", "secret").outcome == "pin_required"
        assert service.authenticate_pin("kunde@example.com", old_pin).outcome == "bad"
        assert service.authenticate_pin("kunde@example.com", new_pin).outcome == "ok"


def test_a_pin_drawn_before_the_transaction_can_be_installed(keystore: Keystore) -> None:
    from keystore.passwords import new_pin

    recipient_id, _ = create(keystore)
    pin, pin_hash = new_pin(keystore.hasher)
    assert pin.replace(" ", "") not in pin_hash
    with account_of(keystore, recipient_id) as (service, recipient):
        service.set_password(recipient, "secret")
        recipient.locked_until = keystore.clock() + timedelta(minutes=5)
        service.install_pin(recipient, pin_hash)
    with keystore.session() as session:
        service = keystore.recipients(session)
        assert service.authenticate("kunde@example.com", "secret").outcome == "pin_required"
        assert service.authenticate_pin("kunde@example.com", pin).outcome == "ok"


def test_unknown_address_costs_a_verification_and_is_bad(
    keystore: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(keystore)
    calls: list[str] = []
    with keystore.session() as session:
        service = keystore.recipients(session)
        original = service.hasher.context.verify
        monkeypatch.setattr(
            service.hasher.context,
            "verify",
            lambda secret, stored: calls.append(stored) or original(secret, stored),
        )
        for address in ("nobody@example.com", "not an address"):
            result = service.authenticate(address, "password")
            assert (result.outcome, result.recipient) == ("bad", None)
            assert service.authenticate_pin(address, "1234 5678").outcome == "bad"
    assert len(calls) == 4
    assert all(stored.startswith("$argon2id$") for stored in calls)


def test_backoff_per_address_and_ip(keystore: Keystore, clock: FakeClock) -> None:
    recipient_id, _ = create(keystore)
    attacker, customer = "203.0.113.9", "198.51.100.7"
    with keystore.session() as session:
        keystore.settings(session).update(
            {"lockout_threshold": 3, "lockout_minutes": 10}, actor="admin"
        )
        service = keystore.recipients(session)
        recipient = service.get_by_id(recipient_id)
        assert recipient is not None
        service.set_password(recipient, "right")
        address = "kunde@example.com"
        # Two failures, then a success from there forgets them.
        assert service.authenticate(address, "wrong", ip=attacker).outcome == "bad"
        assert service.authenticate(address, "wrong", ip=attacker).outcome == "bad"
        assert recipient.failed_logins == 2
        assert service.authenticate(address, "right", ip=attacker).outcome == "ok"
        assert recipient.failed_logins == 0
        # From the third failure on, the pair waits 1 s, 2 s, 4 s, ... at most ten minutes.
        waits = []
        for _ in range(14):
            assert service.authenticate(address, "wrong", ip=attacker).outcome == "bad"
            until = throttled_until(session, address, attacker, clock())
            if until is not None:
                refused = service.authenticate(address, "right", ip=attacker)
                assert (refused.outcome, refused.recipient) == ("throttled", None)
                assert refused.locked_until == until
                waits.append((until - clock()).total_seconds())
                clock.advance(seconds=waits[-1])
        assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
        assert service.authenticate(address, "wrong", ip=attacker).outcome == "bad"
        assert service.authenticate(address, "right", ip=attacker).outcome == "throttled"
        assert service.authenticate_pin(address, "1234 5678", ip=attacker).outcome == "throttled"
        # Meanwhile the customer, elsewhere, is not slowed down at all.
        assert service.authenticate(address, "right", ip=customer).outcome == "ok"
        # A made-up address is slowed down the same way (nothing to tell them apart).
        for _ in range(3):
            assert service.authenticate("nobody@example.com", "x", ip=attacker).outcome == "bad"
        assert service.authenticate("nobody@example.com", "x", ip=attacker).outcome == "throttled"
        # An admin's unlock lifts the back-off.
        service.unlock(recipient)
        assert service.authenticate(address, "right", ip=attacker).outcome == "ok"


def test_backoff_is_forgotten_after_a_quiet_day(keystore: Keystore, clock: FakeClock) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        service.set_password(recipient, "right")
        for _ in range(5):
            service.authenticate("kunde@example.com", "wrong", ip="203.0.113.9")
        assert service.authenticate("kunde@example.com", "right", ip="203.0.113.9").outcome == (
            "throttled"
        )
        clock.advance(days=1, seconds=1)
        # The first failure after a quiet day counts as the first again: no wait.
        assert service.authenticate("kunde@example.com", "wrong", ip="203.0.113.9").outcome == (
            "bad"
        )
        assert service.authenticate("kunde@example.com", "right", ip="203.0.113.9").outcome == (
            "ok"
        )
        # Housekeeping deletes pairs forgotten by now (made-up addresses do not pile up).
        for _ in range(2):
            service.authenticate("nobody@example.com", "wrong", ip="203.0.113.9")
        assert purge_pairs(service.session, clock()) == 0
        clock.advance(days=1)
        assert purge_pairs(service.session, clock()) == 1


def test_deactivated_account_is_inactive_only_with_right_password(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        service.set_password(recipient, "right")
        service.set_status(recipient, "deactivated")
        assert service.authenticate("kunde@example.com", "wrong").outcome == "bad"
        assert service.authenticate("kunde@example.com", "right").outcome == "inactive"
        with pytest.raises(ValueError):
            service.set_status(recipient, "gone")


def test_hash_is_upgraded_on_verify(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    weak = Hasher(make_context(memory_kib=512, time_cost=1, parallelism=1))
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(recipient_id)
        assert recipient is not None
        recipient.password_hash = weak.hash("secret")
        recipient.pin_hash = None
        old_hash = recipient.password_hash
    with keystore.session() as session:
        service = keystore.recipients(session)
        assert service.authenticate("kunde@example.com", "secret").outcome == "ok"
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(recipient_id)
        assert recipient is not None and recipient.password_hash is not None
        assert recipient.password_hash != old_hash
        assert recipient.password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
        assert keystore.recipients(session).authenticate("kunde@example.com", "secret").ok


def test_profile_fields_and_activity(keystore: Keystore, clock: FakeClock) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        service.set_language(recipient, "de")
        with pytest.raises(ValueError):
            service.set_language(recipient, "fr")
        service.set_security_phrase(recipient, "  Blue whale ")
        service.set_read_receipts(recipient, True)
        clock.advance(hours=1)
        service.record_login(recipient)
        clock.advance(hours=1)
        service.touch_activity(recipient)
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(recipient_id)
        assert recipient is not None
        service = keystore.recipients(session)
        assert (recipient.language, service.security_phrase(recipient)) == ("de", "Blue whale")
        assert recipient.read_receipts is True
        assert recipient.last_login_at == clock() - timedelta(hours=1)
        assert recipient.last_activity_at == clock()
        assert recipient.last_activity_at.tzinfo is not None
        service.set_security_phrase(recipient, None)
        assert recipient.security_phrase is None


def test_delete_destroys_keys_and_account(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        keystore.ledger(service.session).record_sealed(
            message_id="<m@bank>",
            recipient_id=recipient_id,
            sender=ADVISER,
            created=keystore.clock(),
            expires=keystore.clock() + timedelta(days=30),
            key_version=1,
        )
        service.delete(recipient)
    with keystore.session() as session:
        service = keystore.recipients(session)
        assert service.get("kunde@example.com") is None
        assert service.key(recipient_id, 1) is None
        assert session.scalars(select(RecipientKey)).all() == []
        assert keystore.ledger(session).find("<m@bank>") == []
    new_id, pin = create(keystore)
    assert new_id != recipient_id and pin


def test_search_by_prefix(keystore: Keystore) -> None:
    for address in ["anna@example.com", "anton@example.com", "bert@example.com", "an@x.de"]:
        create(keystore, address)
    with keystore.session() as session:
        service = keystore.recipients(session)
        assert [r.address for r in service.search("An")] == [
            "an@x.de",
            "anna@example.com",
            "anton@example.com",
        ]
        assert [r.address for r in service.search("ann")] == ["anna@example.com"]
        assert [r.address for r in service.search("an", limit=1, offset=1)] == ["anna@example.com"]
        assert service.search("zz") == []
        assert len(service.search("")) == 4


def test_bad_account_input_is_refused_with_what_is_allowed(keystore: Keystore) -> None:
    recipient_id, _ = create(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        with pytest.raises(ValueError, match="password must not be empty"):
            service.set_password(recipient, "")
        with pytest.raises(ValueError, match="answer must have at least 4 characters"):
            service.set_security_question(recipient, "Favourite colour?", "   ")
        with pytest.raises(ValueError, match="answer must have at least 4 characters"):
            service.set_security_question(recipient, "Favourite colour?", " R  e ")
        with pytest.raises(ValueError, match="question must not be empty"):
            service.set_security_question(recipient, " ", "blue")
        with pytest.raises(ValueError, match="use one of active, deactivated"):
            service.set_status(recipient, "gone")
        with pytest.raises(ValueError, match="use one of en, de"):
            service.set_language(recipient, "fr")
        with pytest.raises(ValueError, match="not a mail address"):
            service.get_or_create("no-at-sign", created_by=ADVISER)
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(recipient_id)
        assert recipient is not None
        assert recipient.needs_pin and recipient.security_question is None
        assert (recipient.status, recipient.language) == ("active", None)
