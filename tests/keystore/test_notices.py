"""The record of sent notices, on every backend: once per (kind, key), forgotten on demand."""

from __future__ import annotations

from keystore.db import Keystore
from tests.keystore.conftest import FakeClock
from tests.support.threads import race


def test_notice_is_recorded_once(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        notices = keystore.notices(session)
        assert not notices.was_sent("expiry", "<m1>:7")
        assert notices.record("expiry", "<m1>:7", message_id="<m1>", recipient_id=7) is True
        assert notices.record("expiry", "<m1>:7") is False
        assert notices.record("unread", "<m1>:7") is True
        assert notices.was_sent("expiry", "<m1>:7")
        assert notices.sent_at("expiry", "<m1>:7") == clock()
        assert notices.recorded("unread", ["<m1>:7", "<m2>:7"]) == {"<m1>:7"}
    with keystore.session() as session:
        notices = keystore.notices(session)
        notices.forget("unread", "<m1>:7")  # its mail could not be sent
        assert notices.sent_at("unread", "<m1>:7") is None
        assert notices.record("unread", "<m1>:7")


def test_notices_are_purged_by_kind_and_age(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        notices = keystore.notices(session)
        notices.record("expiry", "a", recipient_id=1)
        notices.record("pin", "1", recipient_id=1)
        notices.record("unread", "b", recipient_id=2)
    clock.advance(days=1)
    with keystore.session() as session:
        notices = keystore.notices(session)
        notices.record("expiry", "c", recipient_id=2)
        assert notices.purge(["expiry", "unread"], before=clock()) == 2
        assert notices.recorded("expiry", ["a", "c"]) == {"c"}
        assert notices.was_sent("pin", "1")
        assert notices.forget_recipient(2) == 1
        assert notices.forget_recipient(1) == 1
        assert not notices.was_sent("pin", "1")


def test_notice_race_has_one_winner(keystore: Keystore) -> None:
    def record(number: int) -> bool:
        with keystore.session() as session:
            return bool(keystore.notices(session).record("unread", "race"))

    assert len(race(record)) == 1
