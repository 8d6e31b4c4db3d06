from datetime import timedelta

from keystore.db import Keystore
from tests.keystore.conftest import FakeClock


def test_notice_is_recorded_once(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        notices = keystore.notices(session)
        assert not notices.was_sent("expiry", "<m1>:7")
        assert notices.record("expiry", "<m1>:7", message_id="<m1>", recipient_id=7) is True
        assert notices.record("expiry", "<m1>:7") is False
        assert notices.record("unread", "<m1>:7") is True
        assert notices.was_sent("expiry", "<m1>:7")
    clock.advance(days=1)
    with keystore.session() as session:
        notices = keystore.notices(session)
        assert notices.purge(clock()) == 2
        assert not notices.was_sent("expiry", "<m1>:7")


def test_lease_has_one_holder_until_it_expires(keystore: Keystore, clock: FakeClock) -> None:
    ttl = timedelta(minutes=5)
    with keystore.session() as session:
        assert keystore.leases(session).acquire("housekeeping", "node-a", ttl)
    with keystore.session() as session:
        leases = keystore.leases(session)
        assert not leases.acquire("housekeeping", "node-b", ttl)
        assert leases.holder("housekeeping") == "node-a"
        clock.advance(minutes=4)
        assert leases.acquire("housekeeping", "node-a", ttl)  # renewal
        clock.advance(minutes=4)
        assert not leases.acquire("housekeeping", "node-b", ttl)
        clock.advance(minutes=2)
        assert leases.holder("housekeeping") is None
        assert leases.acquire("housekeeping", "node-b", ttl)
        leases.release("housekeeping", "node-a")  # not the holder: no effect
        assert leases.holder("housekeeping") == "node-b"
        leases.release("housekeeping", "node-b")
        assert leases.holder("housekeeping") is None
        assert leases.acquire("other", "node-a", ttl)
