"""SIGTERM and Ctrl-C stop `webcrypt serve`, `filter` and `portal`, whatever their loop does."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

from webcrypt.cli.stopping import run_until_stopped

SAFETY = 20.0
"""Seconds after which the stand-in server gives up by itself, so a failing test ends."""


def _stop_a_busy_server_loop(deliver: Callable[[int], None]) -> None:
    """Run a busy loop under `run_until_stopped`; `deliver(loop_thread_id)` sends SIGTERM."""
    closed = threading.Event()
    caught: list[BaseException] = []
    running = threading.Event()
    loop_thread: list[int] = []
    ended_by: list[str] = []

    def server_loop() -> None:
        deadline = time.monotonic() + SAFETY
        loop_thread.append(threading.get_ident())
        running.set()
        while not closed.is_set() and time.monotonic() < deadline:
            try:
                for _ in range(10_000):  # handling a socket
                    pass
            except Exception as exc:
                caught.append(exc)
        ended_by.append("closed" if closed.is_set() else "its own deadline")

    def send_sigterm() -> None:
        running.wait(SAFETY)
        deliver(loop_thread[0])

    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    sender = threading.Thread(target=send_sigterm)
    sender.start()
    try:
        run_until_stopped(server_loop, [closed.set])
    finally:
        sender.join()
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert caught == []
    assert ended_by == ["closed"]


def test_sigterm_stops_a_server_loop_that_catches_every_exception() -> None:
    # waitress's loop calls each socket's handler inside `except: handle_error()`: a stop
    # that travels as an exception through it can be caught there and lost.
    _stop_a_busy_server_loop(lambda _: os.kill(os.getpid(), signal.SIGTERM))


def test_sigterm_that_lands_on_another_thread_still_wakes_the_main_thread() -> None:
    # The kernel hands a process's signal to any thread that does not block it; Python runs
    # the handler in the main thread only, and only once that thread runs again.
    _stop_a_busy_server_loop(lambda thread: signal.pthread_kill(thread, signal.SIGTERM))
