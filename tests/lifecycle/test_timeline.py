"""The whole life of an account, one housekeeping run a day, every mail checked at the sink."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from keystore.models import AuditEvent, LedgerEntry, RecipientKey
from tests.lifecycle.conftest import (
    ADVISER,
    CUSTOMER,
    PORTAL,
    FakeClock,
    Sealed,
    body_of,
    notices,
    seal_message,
)
from tests.support.accounts import account_of
from tests.support.smtp import Received, RecordingSink
from webcrypt import envelope
from webcrypt.lifecycle.jobs import Report, run_housekeeping
from webcrypt.runtime import Runtime

# Hundreds of housekeeping runs per test.
pytestmark = pytest.mark.slow


class Life:
    """Moves the clock a day at a time and runs housekeeping, collecting the mails."""

    def __init__(self, runtime: Runtime, clock: FakeClock, sink: RecordingSink) -> None:
        self.runtime, self.clock, self.sink = runtime, clock, sink
        self.start = clock()
        self.day = 0
        self.seen = 0
        self.mails: dict[int, list[tuple[str, str]]] = {}
        self.received: dict[int, list[Received]] = {}
        self.reports: dict[int, Report] = {}

    def until(self, day: int) -> Report:
        """Run housekeeping once a day up to and including `day`; return that day's report."""
        while self.day < day:
            self.day += 1
            self.clock.now = self.start + timedelta(days=self.day)
            report = run_housekeeping(self.runtime)
            assert report.ok, report.failures
            assert not report.skipped
            self.reports[self.day] = report
            new = self.sink.messages[self.seen :]
            self.seen = len(self.sink.messages)
            if new:
                self.mails[self.day] = notices(new)
                self.received[self.day] = new
        return self.reports[day]

    def key(self, recipient_id: int, version: int) -> bytes | None:
        with self.runtime.keystore.session() as session:
            return self.runtime.keystore.recipients(session).key(recipient_id, version)

    def live_versions(self, recipient_id: int) -> list[int]:
        with self.runtime.keystore.session() as session:
            rows = session.scalars(
                select(RecipientKey.version).where(
                    RecipientKey.recipient_id == recipient_id,
                    RecipientKey.wrapped_key.is_not(None),
                )
            )
            return sorted(rows)

    def account_exists(self) -> bool:
        with self.runtime.keystore.session() as session:
            return self.runtime.keystore.recipients(session).get(CUSTOMER) is not None


def _opens(sealed: Sealed, key: bytes | None) -> bool:
    if key is None:
        return False
    try:
        envelope.open(envelope.parse(sealed.armored), key)
    except envelope.DecryptionError:
        return False
    return True


def test_thirteen_months_of_an_account(
    runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    sealed = seal_message(runtime, "m1@bank.example")
    rid = sealed.recipient_id
    life = Life(runtime, clock, sink)

    life.until(9)
    assert life.mails == {}
    life.until(10)
    assert life.mails == {10: [("unread", ADVISER)]}
    unread = body_of(life.received[10][0])
    assert CUSTOMER in unread and "<m1@bank.example>" in unread
    assert "5 January 2026 at 09:00 UTC" in unread  # the day it was sent
    assert "Strictly confidential" not in unread and "Vertrag" not in unread
    assert life.received[10][0].mail_from in ("", "<>")  # null sender: no bounce loops

    life.until(27)
    assert life.mails[27] == [("expiry", CUSTOMER)]
    expiry = life.received[27][0]
    assert "4 February 2026" in str(expiry.parsed()["Subject"])
    assert PORTAL in body_of(expiry) and "save" in body_of(expiry)
    assert "You have not opened it yet" in body_of(expiry)

    life.until(29)
    assert _opens(sealed, life.key(rid, 1))  # still readable until it expires
    assert envelope.is_expired(sealed.header, clock() + timedelta(days=1))

    report = life.until(31)  # the key is 31 days old: rotation
    assert life.reports[30].keys_rotated == 0 and report.keys_rotated == 1
    assert life.live_versions(rid) == [1, 2]  # v1 survives the grace period
    report = life.until(32)
    assert report.key_versions_destroyed == 1
    assert life.live_versions(rid) == [2]
    assert life.key(rid, 1) is None
    assert not _opens(sealed, life.key(rid, 2))  # no other key opens it either

    life.until(365)
    assert sorted(life.mails) == [10, 27]
    assert life.live_versions(rid) == [max(life.live_versions(rid))]  # only the current one

    life.until(366)
    assert life.mails[366] == [("inactivity", CUSTOMER)]
    inactivity = body_of(life.received[366][0])
    assert "5 January 2026" in inactivity  # last used: the day of the message
    assert "5 February 2027" in inactivity  # deleted 30 days after this notice
    assert PORTAL in inactivity

    life.until(395)
    assert life.account_exists()
    report = life.until(396)
    assert report.accounts_deleted == 1
    assert not life.account_exists()
    assert sorted(life.mails) == [10, 27, 366]  # no further mail

    with runtime.keystore.session() as session:
        assert session.scalars(select(RecipientKey)).all() == []
        assert session.scalars(select(LedgerEntry)).all() == []
        events = session.scalars(select(AuditEvent)).all()
        deletions = [e for e in events if e.action == "recipient.delete"]
        digest = hashlib.sha256(CUSTOMER.encode()).hexdigest()
        assert [e.target for e in deletions] == [f"sha256:{digest}"]
        assert not any("kunde" in f"{e.target} {e.detail} {e.actor}" for e in events)

    life.until(400)
    assert sorted(life.mails) == [10, 27, 366]


@pytest.mark.parametrize("use", ["login", "message"])
def test_use_resets_the_inactivity_clock(
    use: str, runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    seal_message(runtime, "m1@bank.example")
    life = Life(runtime, clock, sink)
    life.until(366)
    assert life.mails[366] == [("inactivity", CUSTOMER)]
    life.until(380)
    if use == "login":
        with account_of(runtime.keystore, CUSTOMER) as (recipients, account):
            recipients.record_login(account)
        expected = {10: [("unread", ADVISER)], 27: [("expiry", CUSTOMER)]}
    else:
        seal_message(runtime, "m2@bank.example")
        expected = {
            10: [("unread", ADVISER)],
            27: [("expiry", CUSTOMER)],
            390: [("unread", ADVISER)],
            407: [("expiry", CUSTOMER)],
        }
    life.until(420)
    assert life.account_exists()
    assert {d: m for d, m in life.mails.items() if d != 366} == expected

    # A new period of non-use: a new notice 365 days after the use, deletion 30 days later.
    life.clock.now = life.start + timedelta(days=380 + 360)
    life.day = 380 + 360
    life.until(380 + 366)
    assert life.mails[380 + 366] == [("inactivity", CUSTOMER)]
    life.until(380 + 395)
    assert life.account_exists()
    assert life.until(380 + 396).accounts_deleted == 1
    assert not life.account_exists()
