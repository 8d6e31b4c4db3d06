"""The lifecycle jobs on every database backend, in big steps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from keystore.models import AuditEvent, LedgerEntry, RecipientKey
from tests.lifecycle.conftest import ADVISER, CUSTOMER, FakeClock, notices, seal_message
from tests.support.smtp import RecordingSink
from webcrypt.lifecycle.jobs import Report, run_housekeeping
from webcrypt.runtime import Runtime


def test_life_in_big_steps(any_runtime: Runtime, clock: FakeClock, sink: RecordingSink) -> None:
    sealed = seal_message(any_runtime, "m1@bank.example")
    start = clock()

    def at(days: int) -> Report:
        clock.now = start + timedelta(days=days)
        report = run_housekeeping(any_runtime)
        assert report.ok, report.failures
        return report

    assert at(10).unread_notices == 1
    assert at(27).expiry_notices == 1
    assert at(31).keys_rotated == 1
    assert at(32).key_versions_destroyed == 1
    with any_runtime.keystore.session() as session:
        assert any_runtime.keystore.recipients(session).key(sealed.recipient_id, 1) is None
    assert at(366).inactivity_notices == 1
    assert at(395).accounts_deleted == 0
    assert at(396).accounts_deleted == 1
    assert notices(sink.messages) == [
        ("unread", ADVISER),
        ("expiry", CUSTOMER),
        ("inactivity", CUSTOMER),
    ]
    with any_runtime.keystore.session() as session:
        assert session.scalars(select(RecipientKey)).all() == []
        assert session.scalars(select(LedgerEntry)).all() == []
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "recipient.delete" in actions
