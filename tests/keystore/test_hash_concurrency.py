"""Argon2 hashes take 64 MiB each while they run: a process runs only so many at once.

A burst of new recipients (each gets a PIN hash) or of logins then waits its turn instead of
taking `burst x 64 MiB` of memory.
"""

from __future__ import annotations

import threading
from typing import Any

from passlib.context import CryptContext

from keystore.passwords import Hasher, make_context
from tests.support.runtime import build_runtime, folder_environ


class CountingContext(CryptContext):  # type: ignore[misc]
    """A real argon2 context that records how many hashes and verifications ran at once."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _track(self, work: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return work(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, *args: Any, **kwargs: Any) -> Any:
        return self._track(super().hash, *args, **kwargs)

    def verify(self, *args: Any, **kwargs: Any) -> Any:
        return self._track(super().verify, *args, **kwargs)

    def verify_and_update(self, *args: Any, **kwargs: Any) -> Any:
        return self._track(super().verify_and_update, *args, **kwargs)


def counting_context() -> CountingContext:
    # Enough work per hash that eight threads overlap when nothing holds them back.
    return CountingContext(**make_context(memory_kib=4096, time_cost=1, parallelism=1).to_dict())


def burst(hasher: Hasher, count: int = 8) -> None:
    """Hash, verify and verify an unknown account from `count` threads at once."""
    stored = hasher.hash("0421 9377")
    start = threading.Barrier(count)

    def work() -> None:
        start.wait()
        hasher.hash("12345678")
        assert hasher.verify("0421 9377", stored)[0]
        assert not hasher.verify("wrong", None)[0]

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_at_most_the_configured_number_of_hashes_run_at_once() -> None:
    context = counting_context()
    burst(Hasher(context, concurrency=2))
    assert context.most == 2


def test_without_a_bound_a_burst_runs_all_at_once() -> None:
    context = counting_context()
    burst(Hasher(context))
    assert context.most > 2  # the test above would notice a bound that does nothing


def test_the_runtime_bounds_hashing_as_configured(tmp_path) -> None:
    environ = folder_environ(tmp_path, WEBCRYPT_KEYSTORE_CONCURRENT_HASHES="3")
    runtime = build_runtime(environ, fast=False)
    try:
        assert runtime.keystore.hasher.concurrency == 3
    finally:
        runtime.close()
