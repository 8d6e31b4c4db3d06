"""Named leases on every backend: one holder until expiry, renewal, release, races."""

from __future__ import annotations

from datetime import timedelta

from keystore.db import Keystore
from tests.keystore.conftest import FakeClock
from tests.support.threads import race

TTL = timedelta(minutes=5)


def test_lease_has_one_holder_until_it_expires(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        assert keystore.leases(session).acquire("housekeeping", "node-a", TTL)
    with keystore.session() as session:
        leases = keystore.leases(session)
        assert not leases.acquire("housekeeping", "node-b", TTL)
        clock.advance(minutes=4)
        assert leases.acquire("housekeeping", "node-a", TTL)  # renewal
        clock.advance(minutes=4)
        assert not leases.acquire("housekeeping", "node-b", TTL)
        clock.advance(minutes=2)
        assert leases.acquire("housekeeping", "node-b", TTL)
        assert not leases.acquire("housekeeping", "node-a", TTL)
        leases.release("housekeeping", "node-a")  # not the holder: no effect
        assert not leases.acquire("housekeeping", "node-a", TTL)
        leases.release("housekeeping", "node-b")
        assert leases.acquire("housekeeping", "node-a", TTL)
        assert leases.acquire("other", "node-b", TTL)


def test_lease_is_free_at_its_expiry_instant(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        assert keystore.leases(session).acquire("job", "a", TTL)
    clock.advance(seconds=TTL.total_seconds() - 1)
    with keystore.session() as session:
        assert not keystore.leases(session).acquire("job", "b", TTL)
    clock.advance(seconds=1)
    with keystore.session() as session:
        leases = keystore.leases(session)
        assert leases.acquire("job", "b", TTL)
        assert not leases.acquire("job", "a", TTL)


def test_lease_race_has_one_winner(keystore: Keystore) -> None:
    def acquire(number: int) -> bool:
        with keystore.session() as session:
            return keystore.leases(session).acquire("race", f"h{number}", TTL)

    assert len(race(acquire)) == 1
