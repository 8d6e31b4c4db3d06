"""Counting a sender's new recipient accounts, on every database backend."""

from __future__ import annotations

from keystore.db import Keystore
from tests.keystore.conftest import FakeClock

ADVISER = "adviser@bank.example"


def create(keystore: Keystore, *addresses: str, by: str = ADVISER) -> None:
    with keystore.session() as session:
        for address in addresses:
            keystore.recipients(session).get_or_create(address, created_by=by)


def check(keystore: Keystore, addresses: list[str], limit: int = 3, sender: str = ADVISER):  # type: ignore[no-untyped-def]
    with keystore.session() as session:
        return keystore.quota(session).check(sender, addresses, limit=limit)


def test_counts_new_addresses_and_the_senders_last_hour(
    keystore: Keystore, clock: FakeClock
) -> None:
    create(keystore, "a@cust.example")
    clock.advance(minutes=61)
    create(keystore, "b@cust.example", "c@cust.example")
    create(keystore, "d@cust.example", by="other@bank.example")

    quota = check(keystore, ["a@cust.example", "x@cust.example"])
    assert (quota.new, quota.recent, quota.exceeded, quota.never_fits) == (1, 2, False, False)
    quota = check(keystore, ["x@cust.example", "y@cust.example"])
    assert (quota.new, quota.recent, quota.exceeded, quota.never_fits) == (2, 2, True, False)
    quota = check(keystore, [f"n{i}@cust.example" for i in range(4)])
    assert quota.exceeded and quota.never_fits
    # Known addresses only: nothing counted, nothing exceeded, whatever the sender did.
    quota = check(keystore, ["a@cust.example", "b@cust.example"], limit=1)
    assert (quota.new, quota.recent, quota.exceeded) == (0, 0, False)
    # Another sender has a count of its own; limit 0 is no cap.
    assert check(keystore, ["x@cust.example"], sender="other@bank.example").recent == 1
    assert not check(keystore, [f"n{i}@cust.example" for i in range(9)], limit=0).exceeded
    clock.advance(minutes=61)
    assert check(keystore, ["x@cust.example", "y@cust.example"]).recent == 0
