"""Two housekeeping runs at once send every notice exactly once, on every database backend."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from tests.lifecycle.conftest import (
    ADVISER,
    FakeClock,
    mails_sent,
    notices,
    seal_message,
    update_settings,
)
from tests.support.smtp import RecordingSink
from tests.support.threads import run_at_once
from webcrypt.lifecycle.jobs import Report, run_housekeeping
from webcrypt.runtime import Runtime

CUSTOMERS = [f"kunde{i}@example.net" for i in range(4)]


def _prepare(runtime: Runtime, clock: FakeClock) -> None:
    """Two messages per customer, one of them opened on day 25; on day 27 everything is due."""
    update_settings(runtime, read_receipts=True)
    for number, customer in enumerate(CUSTOMERS):
        for which in ("a", "b"):
            seal_message(runtime, f"{which}{number}@bank.example", to=customer)
    clock.advance(days=25)
    with runtime.keystore.session() as session:
        ledger, recipients = runtime.keystore.ledger(session), runtime.keystore.recipients(session)
        for number, customer in enumerate(CUSTOMERS):
            account = recipients.get(customer)
            assert account is not None
            assert ledger.mark_opened(f"a{number}@bank.example", account.id)
    clock.advance(days=2)


def _expected() -> Counter[tuple[str, str]]:
    expected: Counter[tuple[str, str]] = Counter()
    expected[("unread", ADVISER)] = len(CUSTOMERS)
    expected[("receipt", ADVISER)] = len(CUSTOMERS)
    for customer in CUSTOMERS:
        expected[("expiry", customer)] = 2
    return expected


def _run_together(runtime: Runtime, count: int, *, use_lease: bool) -> list[Report]:
    barrier = threading.Barrier(count)
    reports: list[Report] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            reports.append(run_housekeeping(runtime, use_lease=use_lease))
        except BaseException as exc:  # surface in the main thread
            errors.append(exc)

    run_at_once([run] * count, timeout=60)
    assert not errors, errors
    return reports


@pytest.mark.parametrize("use_lease", [False, True], ids=["claims-only", "lease"])
def test_concurrent_runs_send_each_notice_once(
    use_lease: bool, any_runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    _prepare(any_runtime, clock)
    reports = _run_together(any_runtime, 3, use_lease=use_lease)
    assert all(r.ok for r in reports), [r.failures for r in reports]
    assert sum(mails_sent(r) for r in reports) == sum(_expected().values())
    assert Counter(notices(sink.messages)) == _expected()
    bodies = [m.data for m in sink.messages if b"unread" in m.data.lower()]
    assert len(set(bodies)) == len(bodies)

    # Later runs find nothing left to send.
    again = _run_together(any_runtime, 2, use_lease=use_lease)
    assert sum(mails_sent(r) for r in again) == 0
    assert Counter(notices(sink.messages)) == _expected()


def test_a_held_lease_makes_other_runs_skip(runtime: Runtime, clock: FakeClock) -> None:
    from keystore.leases import LeaseService
    from webcrypt.lifecycle.jobs import LEASE_NAME, LEASE_TTL

    with runtime.keystore.session() as session:
        assert LeaseService(session, clock=clock).acquire(LEASE_NAME, "other-host:1", LEASE_TTL)
    assert run_housekeeping(runtime).skipped
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)  # the other instance died
    report = run_housekeeping(runtime)
    assert not report.skipped and report.ok
    with runtime.keystore.session() as session:
        # The run gave its lease back: another instance takes it at once.
        assert LeaseService(session, clock=clock).acquire(LEASE_NAME, "next-host:1", LEASE_TTL)


def _lease_expiry(runtime: Runtime) -> Any:
    from sqlalchemy import select

    from keystore.models import Lease
    from webcrypt.lifecycle.jobs import LEASE_NAME

    with runtime.keystore.session() as session:
        return session.scalar(select(Lease.expires_at).where(Lease.name == LEASE_NAME))


def test_a_long_run_renews_its_lease_and_stops_when_it_lost_it(
    runtime: Runtime, clock: FakeClock
) -> None:
    """The lease is renewed from the clock, not the run's start; a lost lease stops the run."""
    from keystore.leases import LeaseService
    from webcrypt.lifecycle.jobs import LEASE_NAME, LEASE_TTL, HousekeepingLease

    start = clock()
    lease = HousekeepingLease(runtime, "this-host:1")
    assert lease.take()
    assert _lease_expiry(runtime).replace(tzinfo=None) == (start + LEASE_TTL).replace(tzinfo=None)
    clock.advance(minutes=4)  # most of its time is left: nothing to write
    assert lease.take()
    assert _lease_expiry(runtime).replace(tzinfo=None) == (start + LEASE_TTL).replace(tzinfo=None)
    clock.advance(minutes=6)  # a long job: renewed from now, not from the start of the run
    assert lease.take()
    renewed = clock() + LEASE_TTL
    assert _lease_expiry(runtime).replace(tzinfo=None) == renewed.replace(tzinfo=None)
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)  # a job outlived the lease
    with runtime.keystore.session() as session:
        assert LeaseService(session, clock=clock).acquire(LEASE_NAME, "other-host:1", LEASE_TTL)
    assert not lease.take()
    lease.release()  # leaves the other holder's lease alone
    with runtime.keystore.session() as session:
        assert not LeaseService(session, clock=clock).acquire(LEASE_NAME, "third:1", LEASE_TTL)


def _run_in_process(
    keystore_url: str, master_key: str, relay: str, secret_file: str, now: str, start: Any
) -> dict[str, int]:
    """Run housekeeping in a separate process, as a second host would."""
    from datetime import datetime

    from keystore.masterkey import MasterKey
    from webcrypt.config.loader import load_config

    config = load_config(
        environ={
            "WEBCRYPT_KEYSTORE_URL": keystore_url,
            "WEBCRYPT_PORTAL_RELAY": relay,
            "WEBCRYPT_PORTAL_SECRET_KEY_FILE": secret_file,
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
        }
    )
    runtime = Runtime(config, master_key=MasterKey.from_base64(master_key))
    try:
        start.wait(60)
        report = run_housekeeping(runtime, now=datetime.fromisoformat(now), use_lease=False)
        return {"sent": mails_sent(report), "failures": len(report.failures)}
    finally:
        runtime.close()


@pytest.mark.slow
def test_two_processes_send_each_notice_once(
    any_runtime: Runtime, clock: FakeClock, sink: RecordingSink
) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _prepare(any_runtime, clock)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as pool:
        start = manager.Event()
        args = (
            str(any_runtime.config.keystore.url),
            any_runtime.master_key.to_base64(),
            sink.url,
            str(any_runtime.config.portal.secret_key_file),
            clock().isoformat(),
            start,
        )
        futures = [pool.submit(_run_in_process, *args) for _ in range(2)]
        start.set()
        results = [future.result(120) for future in futures]
    assert [r["failures"] for r in results] == [0, 0]
    assert sum(r["sent"] for r in results) == sum(_expected().values())
    assert Counter(notices(sink.messages)) == _expected()
