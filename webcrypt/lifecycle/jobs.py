"""Housekeeping: the periodic jobs of the message and account lifecycle.

`run_housekeeping` runs every job once — key rotation, crypto-shredding, expiry of secure
mailbox messages, unread notices,
read receipts, withdraw offers, expiry notices, inactivity notices and deletions, ledger
retention, records of relayed mails past the queue lifetime — and returns a `Report`. It is
idempotent: running it again at the same moment does nothing more. `webcrypt housekeeping`
runs it from cron or a systemd timer; with ``[housekeeping] mode = "internal"`` a
`Scheduler` thread in `webcrypt serve` runs it every ``interval`` seconds.

Several instances may run it at once: a lease row in the keystore lets one run at a time
do the work (the others report `skipped`), and every notice is claimed under a unique key
before it is sent, so even runs that overlap after a lease expired never send a notice twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from keystore.leases import LeaseService
from keystore.lockout import purge_pairs
from webcrypt.lifecycle import accounts, messages, rotation
from webcrypt.lifecycle.jobcontext import JobContext
from webcrypt.lifecycle.sending import NoticeSender, SendResult

if TYPE_CHECKING:
    from webcrypt.runtime import Runtime

log = logging.getLogger(__name__)

LEASE_NAME = "housekeeping"
LEASE_TTL = timedelta(minutes=15)
"""A crashed run blocks the next ones for at most this long (`HousekeepingLease` renews it)."""

NOTICE_KINDS = (*messages.KINDS, *accounts.KINDS)
"""The notice kinds housekeeping records (and purges after the retention period)."""


@dataclass
class Report:
    """What one housekeeping run did."""

    started: datetime
    skipped: bool = False
    keys_rotated: int = 0
    key_versions_destroyed: int = 0
    mailbox_expired: int = 0
    unread_notices: int = 0
    read_receipts: int = 0
    withdraw_offers: int = 0
    expiry_notices: int = 0
    inactivity_notices: int = 0
    accounts_deleted: int = 0
    ledger_purged: int = 0
    relay_records_purged: int = 0
    notices_purged: int = 0
    login_failures_forgotten: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether every job ran and every due mail went out."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        """Return the numbers of the run by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "int"}

    def summary(self) -> str:
        """Return one line for logs and the command line."""
        if self.skipped:
            return "housekeeping skipped: another instance is running it"
        done = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.counts().items() if v)
        text = f"housekeeping done: {done or 'nothing was due'}"
        if self.failures:
            text += f"; {len(self.failures)} problems (see the log)"
        return text


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class HousekeepingLease:
    """The housekeeping lease of one run, renewed from the runtime's clock as jobs go by.

    `take` before each job: the first call acquires the lease; later calls renew it once a
    third of its time has passed (until then it is certainly still ours, and nothing is
    written), so a run of quick jobs costs one write and a long job cannot outlive it
    unnoticed. The renewal counts from the clock, not from the run's fixed moment.
    """

    def __init__(self, runtime: Runtime, holder: str) -> None:
        self.runtime, self.holder = runtime, holder
        self.expires: datetime | None = None

    def take(self) -> bool:
        """Acquire or renew the lease; False when another instance holds it."""
        now = self.runtime.clock()
        if self.expires is not None and self.expires - now > LEASE_TTL * 2 / 3:
            return True
        with self.runtime.keystore.session() as session:
            taken = LeaseService(session, clock=lambda: now).acquire(
                LEASE_NAME, self.holder, LEASE_TTL
            )
        self.expires = now + LEASE_TTL if taken else None
        return taken

    def release(self) -> None:
        """Give the lease back (if this run still holds it)."""
        self.expires = None
        with self.runtime.keystore.session() as session:
            LeaseService(session, clock=self.runtime.clock).release(LEASE_NAME, self.holder)


def _record(report: Report, name: str, result: SendResult) -> None:
    setattr(report, name, getattr(report, name) + result.sent)
    report.failures.extend(result.failed)


def run_housekeeping(
    runtime: Runtime, *, now: datetime | None = None, use_lease: bool = True
) -> Report:
    """Run every lifecycle job once and return what was done.

    `now` defaults to the runtime's clock. With `use_lease` False the lease is not taken
    (only for tests and manual runs: notices are still sent at most once).
    """
    moment = now or runtime.clock()
    report = Report(started=moment)
    sender = NoticeSender(runtime, clock=lambda: moment)
    ctx = JobContext(runtime=runtime, now=moment, settings=runtime.settings(), sender=sender)
    lease = HousekeepingLease(runtime, _holder()) if use_lease else None
    if lease is not None and not lease.take():
        report.skipped = True
        return report

    def purge() -> None:
        report.ledger_purged, report.notices_purged = rotation.purge_ledger(ctx, NOTICE_KINDS)

    def forget_login_failures() -> None:
        with ctx.session() as session:
            report.login_failures_forgotten = purge_pairs(session, ctx.now)

    def inactivity() -> None:
        result = accounts.inactivity(ctx)
        _record(report, "inactivity_notices", result.notices)
        report.accounts_deleted += result.deleted

    jobs: list[tuple[str, Callable[[], None]]] = [
        ("key rotation", lambda: setattr(report, "keys_rotated", rotation.rotate_keys(ctx))),
        (
            "crypto-shredding",
            lambda: setattr(report, "key_versions_destroyed", rotation.shred_unused_versions(ctx)),
        ),
        (
            "mailbox expiry",
            lambda: setattr(report, "mailbox_expired", rotation.expire_mailboxes(ctx)),
        ),
        ("unread notices", lambda: _record(report, "unread_notices", messages.unread_notices(ctx))),
        ("read receipts", lambda: _record(report, "read_receipts", messages.read_receipts(ctx))),
        (
            "withdraw offers",
            lambda: _record(report, "withdraw_offers", messages.withdraw_offers(ctx)),
        ),
        ("expiry notices", lambda: _record(report, "expiry_notices", messages.expiry_notices(ctx))),
        ("inactivity", inactivity),
        ("ledger retention", purge),
        (
            "relay records",
            lambda: setattr(report, "relay_records_purged", rotation.purge_relay_records(ctx)),
        ),
        ("login back-off", forget_login_failures),
    ]
    try:
        for name, job in jobs:
            if lease is not None and not lease.take():
                report.failures.append(f"{name}: lost the housekeeping lease; stopped")
                log.warning("housekeeping lost its lease before %s; stopping", name)
                break
            try:
                job()
            except Exception as exc:  # one broken job must not stop the others
                log.exception("housekeeping job %s failed", name)
                report.failures.append(f"{name}: {exc}")
    finally:
        if lease is not None:
            try:
                lease.release()
            except Exception:
                log.warning("could not release the housekeeping lease; it expires by itself")
    log.info(report.summary())
    return report


class Scheduler:
    """Runs housekeeping every `interval` seconds in a background thread."""

    def __init__(self, runtime: Runtime, *, interval: float, first_delay: float = 5.0) -> None:
        self.runtime = runtime
        self.interval = float(interval)
        self.first_delay = min(float(first_delay), self.interval)
        self.last_report: Report | None = None
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the run in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            try:
                self.last_report = run_housekeeping(self.runtime)
            except Exception:  # the database may be down; try again next time
                log.exception("housekeeping run failed")
            self.runs += 1
            delay = self.interval
