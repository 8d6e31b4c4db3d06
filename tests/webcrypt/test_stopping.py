"""SIGTERM and Ctrl-C stop `webcrypt serve`, `filter` and `portal`, whatever their loop does."""

from __future__ import annotations

import os
import signal
import threading
import time

from webcrypt.cli.stopping import run_until_stopped

SAFETY = 20.0
"""Seconds after which the stand-in server gives up by itself, so a failing test ends."""


def test_sigterm_stops_a_server_loop_that_catches_every_exception() -> None:
    # waitress's loop calls each socket's handler inside `except: handle_error()`: a stop
    # that travels as an exception through it can be caught there and lost.
    closed = threading.Event()
    caught: list[BaseException] = []
    running = threading.Event()

    def server_loop() -> None:
        deadline = time.monotonic() + SAFETY
        running.set()
        while not closed.is_set() and time.monotonic() < deadline:
            try:
                for _ in range(10_000):  # handling a socket
                    pass
            except Exception as exc:
                caught.append(exc)

    def send_sigterm() -> None:
        running.wait(SAFETY)
        os.kill(os.getpid(), signal.SIGTERM)

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
    assert closed.is_set()
