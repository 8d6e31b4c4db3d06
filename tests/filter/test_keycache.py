"""The account cache: entries expire, and cached key material never outlives a change."""

from __future__ import annotations

import smtplib
import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from keystore.db import Keystore
from tests.filter.conftest import ADVISER, Harness
from tests.filter.helpers import carriers, open_carrier, pin_mails, rfc5322
from tests.support.accounts import account_of
from webcrypt import envelope
from webcrypt.envelope import RecipientKey
from webcrypt.sealing.keycache import Account, AccountCache
from webcrypt.sealing.securehtm import extract_envelope

CUSTOMER = "c@cust.example"


class Ticks:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def account(recipient_id: int = 1, *, active: bool = True) -> Account:
    key = RecipientKey(address=CUSTOMER, key_id="k", key_version=1, key=bytes(32))
    return Account(recipient_id, active, key if active else None, None)


def test_entries_expire_after_the_ttl() -> None:
    ticks = Ticks()
    cache = AccountCache(30.0, monotonic=ticks)
    cache.put(CUSTOMER, account())
    ticks.now += 29.9
    assert cache.get(CUSTOMER) == account()
    ticks.now += 0.1
    assert cache.get(CUSTOMER) is None
    assert len(cache) == 0


def test_only_active_accounts_are_kept_and_the_oldest_go_first() -> None:
    cache = AccountCache(30.0, max_entries=2, monotonic=Ticks())
    cache.put("x@cust.example", account(active=False))
    assert cache.get("x@cust.example") is None
    for index in range(3):
        cache.put(f"r{index}@cust.example", account(index))
    assert cache.get("r0@cust.example") is None
    assert cache.get("r2@cust.example") == account(2)
    cache.forget("r2@cust.example")
    assert cache.get("r2@cust.example") is None
    assert "key=" not in repr(account())


def message(number: int) -> bytes:
    return rfc5322(
        f"From: Ann Adviser <{ADVISER}>\nTo: {CUSTOMER}\nSubject: WebCrypt offer {number}\n"
        f"Message-ID: <m{number}@bank.example>\n\nThe secret number is {number}.\n"
    )


@pytest.fixture
def ticks(harness: Harness) -> Ticks:
    """Give the filter's sealer a cache whose clock the test moves."""
    ticks = Ticks()
    harness.server.delivery.sealer.account_cache = AccountCache(30.0, monotonic=ticks)
    return ticks


def cache_of(harness: Harness) -> AccountCache:
    return harness.server.delivery.sealer.account_cache


def send(harness: Harness, number: int) -> envelope.Header:
    """Send message `number` to the customer; return the header of the carrier's envelope."""
    harness.sink.clear()
    harness.send(message(number), to=[CUSTOMER])
    (carrier,) = carriers(harness.sink.wait_for(1))
    assert f"secret number is {number}".encode() in open_carrier(harness.runtime, carrier)
    return envelope.parse(extract_envelope(carrier.data)).header


def ledger_versions(harness: Harness, number: int) -> list[int]:
    with harness.runtime.keystore.session() as session:
        entries = harness.runtime.keystore.ledger(session).find(f"m{number}@bank.example")
        return [entry.key_version for entry in entries]


def settle(harness: Harness) -> None:
    """First contact (PIN mail), then a message that puts the account in the cache."""
    harness.send(message(1), to=[CUSTOMER])
    assert len(pin_mails(harness.sink.wait_for(2))) == 1
    assert cache_of(harness).get(CUSTOMER) is None  # its first PIN was not recorded yet
    send(harness, 2)
    assert cache_of(harness).get(CUSTOMER) is not None


def change(harness: Harness, how: str, *args: object) -> None:
    with account_of(harness.runtime.keystore, CUSTOMER) as (recipients, recipient):
        getattr(recipients, how)(recipient, *args)


def test_cached_accounts_are_still_recorded_in_the_ledger(harness: Harness, ticks: Ticks) -> None:
    settle(harness)
    for number in (3, 4):
        assert send(harness, number).key_version == 1
        assert ledger_versions(harness, number) == [1]
    assert not pin_mails(harness.sink.messages)


def test_deactivation_stops_sealing_at_the_next_message(harness: Harness, ticks: Ticks) -> None:
    settle(harness)
    change(harness, "set_status", "deactivated")
    harness.sink.clear()
    harness.send(message(3), to=[CUSTOMER])
    (notice,) = harness.sink.wait_for(1)
    assert notice.rcpt_tos == [ADVISER]
    assert b"deactivated" in notice.data and not carriers([notice])
    assert ledger_versions(harness, 3) == []


def test_a_rotated_key_is_used_at_the_next_message(harness: Harness, ticks: Ticks) -> None:
    settle(harness)
    change(harness, "rotate_key")
    assert send(harness, 3).key_version == 2
    assert ledger_versions(harness, 3) == [2]


def test_a_destroyed_version_is_never_used(harness: Harness, ticks: Ticks) -> None:
    settle(harness)
    change(harness, "rotate_key")
    assert send(harness, 3).key_version == 2  # version 2 is now in the cache
    with harness.runtime.keystore.session() as session:
        recipient = harness.runtime.keystore.recipients(session).get(CUSTOMER)
        assert recipient is not None
        harness.runtime.keystore.recipients(session).destroy_key_version(recipient.id, 2)
    assert send(harness, 4).key_version == 1
    assert ledger_versions(harness, 4) == [1]


def test_a_deleted_account_is_a_first_contact_again(harness: Harness, ticks: Ticks) -> None:
    settle(harness)
    change(harness, "delete")
    harness.sink.clear()
    harness.send(message(3), to=[CUSTOMER])
    received = harness.sink.wait_for(2)
    assert len(carriers(received)) == 1 and len(pin_mails(received)) == 1


def test_the_security_phrase_never_goes_into_the_carrier(harness: Harness, ticks: Ticks) -> None:
    # Shown on the portal only: a forwarded secure.htm must not help forge convincing ones.
    settle(harness)
    change(harness, "set_security_phrase", "blue whale")
    for number in (3, 4):  # cached entry, then a fresh look-up once it expired
        harness.sink.clear()
        harness.send(message(number), to=[CUSTOMER])
        (carrier,) = harness.sink.wait_for(1)
        mail = message_from_bytes(carrier.data, policy=policy.default)
        texts = [str(part.get_content()) for part in mail.walk() if not part.is_multipart()]
        assert any(
            "Only enter your password on <b>https://portal.bank.example/" in t for t in texts
        )
        assert not any("blue whale" in text for text in texts)
        ticks.now += 30


def test_a_retried_message_updates_its_ledger_entry(harness: Harness, ticks: Ticks) -> None:
    settle(harness)
    send(harness, 3)
    send(
        harness, 3
    )  # the MTA sends it again: the cached path finds the entry, the slow one updates
    assert ledger_versions(harness, 3) == [1]
    assert cache_of(harness).get(CUSTOMER) is not None


def test_a_cached_account_is_not_sealed_for_without_the_ledger(
    harness: Harness, ticks: Ticks, tmp_path: Path
) -> None:
    settle(harness)
    harness.runtime.keystore = Keystore(
        f"sqlite:///{tmp_path}/elsewhere/keystore.db", master_key=harness.runtime.master_key
    )
    harness.sink.clear()
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(message(3), to=[CUSTOMER])
    assert caught.value.smtp_code == 451
    assert b"key store is unavailable" in caught.value.smtp_error
    assert harness.sink.messages == []
    assert cache_of(harness).get(CUSTOMER) is not None


def test_a_phone_given_to_a_cached_account_is_stored_and_audited(
    harness: Harness, ticks: Ticks
) -> None:
    settle(harness)
    harness.sink.clear()
    with_phone = message(3).replace(
        b"Message-ID:", b"X-WebCrypt-Phone: 0049 176 1234567\r\nMessage-ID:"
    )
    harness.send(with_phone, to=[CUSTOMER])
    (carrier,) = carriers(harness.sink.wait_for(1))
    assert b"X-WebCrypt-Phone" not in open_carrier(harness.runtime, carrier)
    assert ledger_versions(harness, 3) == [1]
    with harness.runtime.keystore.session() as session:
        assert harness.runtime.keystore.recipients(session).get(CUSTOMER).phone == "+491761234567"
        (event,) = harness.runtime.keystore.audit(session).search(action="recipient.phone")
    assert (event.actor, event.target) == (ADVISER, CUSTOMER)
    assert "+...567" in event.detail and "1761234567" not in event.detail


def test_a_cached_account_without_a_phone_costs_no_account_look_up(
    harness: Harness, ticks: Ticks, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle(harness)
    keystore = harness.runtime.keystore
    opened = keystore.session
    by_filter: list[str] = []

    def session(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():  # not this test's own
            by_filter.append(threading.current_thread().name)
        return opened(*args, **kwargs)

    monkeypatch.setattr(keystore, "session", session)
    send(harness, 3)
    assert by_filter == []  # the guarded ledger insert was the one round trip
