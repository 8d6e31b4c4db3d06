"""Races in tests: run calls in threads of their own at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


def run_at_once(calls: Iterable[Callable[[], object]], timeout: float | None = None) -> None:
    """Run every call in a thread of its own; wait until each has ended (or `timeout` passed)."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
