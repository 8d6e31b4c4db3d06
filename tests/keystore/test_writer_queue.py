"""The writer queue of one process: one writer at a time, an urgent one before the others."""

from __future__ import annotations

import threading
import time

from keystore.driver import WriterQueue


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
