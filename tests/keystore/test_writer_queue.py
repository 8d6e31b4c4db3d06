"""The writer queue: one writer at a time, an urgent one before the others of its process."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from keystore.db import Keystore
from keystore.driver import WriterQueue
from keystore.masterkey import MasterKey
from keystore.relayed import record_relayed
from tests.support.keystores import migrated_sqlite


def test_an_urgent_writer_goes_before_the_writers_that_waited_longer() -> None:
    queue = WriterQueue()
    order: list[str] = []

    def write(name: str, *, urgent: bool) -> None:
        with queue.hold(urgent=urgent):
            order.append(name)

    with queue.hold():
        waiting = []
        for name, urgent in (("ledger", False), ("deletion", False), ("record", True)):
            thread = threading.Thread(target=write, args=(name,), kwargs={"urgent": urgent})
            thread.start()
            waiting.append(thread)
            time.sleep(0.1)  # queued behind the holder, in this order
    for thread in waiting:
        thread.join(5)
    assert order[0] == "record"
    assert sorted(order[1:]) == ["deletion", "ledger"]


def test_one_writer_at_a_time() -> None:
    queue = WriterQueue()
    inside = 0
    most = 0
    lock = threading.Lock()

    def write(urgent: bool) -> None:
        nonlocal inside, most
        for _ in range(200):
            with queue.hold(urgent=urgent):
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0001)  # another thread would get in now, if it could
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=write, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 1


def test_processes_sharing_the_database_queue_on_its_lock_file(tmp_path: Path) -> None:
    lock_file = tmp_path / "keystore.db-writer"
    queue = WriterQueue(lock_file)
    other_process = [
        sys.executable,
        "-c",
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(1)\n",
        str(lock_file),
    ]
    with queue.hold(urgent=True):
        assert subprocess.run(other_process, check=False).returncode == 1
    assert subprocess.run(other_process, check=False).returncode == 0
    assert stat.S_IMODE(lock_file.stat().st_mode) & 0o077 == 0


def test_a_keystore_on_sqlite_shares_its_writer_lock_beside_the_file(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "keystore.db")
    keystore = Keystore(url, master_key=MasterKey.generate())
    try:
        with keystore.driver_transaction(urgent=True) as transaction:
            record_relayed(transaction, "a" * 64, ["1" * 32], datetime.now(UTC))
    finally:
        keystore.engine.dispose()
    assert (tmp_path / "keystore.db-writer").exists()
