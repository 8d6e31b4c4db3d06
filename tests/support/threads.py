"""Races in tests: run calls in threads of their own at once, and count who wins a race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial


def run_at_once(calls: Iterable[Callable[[], object]], timeout: float | None = None) -> None:
    """Run every call in a thread of its own; wait until each has ended (or `timeout` passed)."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)


def race(attempt: Callable[[int], bool], contenders: int = 4) -> list[int]:
    """Let `contenders` threads call `attempt(n)`, n = 0, 1, ..., at the same moment; return
    the n whose attempt succeeded."""
    won: list[int] = []
    barrier = threading.Barrier(contenders)

    def contend(number: int) -> None:
        barrier.wait()
        if attempt(number):
            won.append(number)

    run_at_once(partial(contend, number) for number in range(contenders))
    return won
