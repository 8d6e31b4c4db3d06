"""Stopping on SIGTERM or Ctrl-C: the signal sets a flag, the main thread waits for it.

A signal handler here raises nothing and takes no lock: it records the signal and writes a
byte to a pipe the main thread waits on. An exception raised from a handler would land in
whatever code the main thread runs at that moment, and a server loop that catches every
exception around its socket handlers (waitress does) can swallow it, leaving a process that
ignores every further SIGTERM.

The kernel may hand a signal to any thread of the process, while Python runs the handler
in the main thread only, once that thread runs Python code again: a main thread asleep in
`select` would not notice a signal taken by a busy server thread. The pipe is therefore
also the process's wakeup fd (`signal.set_wakeup_fd`), which the C-level handler writes to
from whichever thread took the signal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import click

log = logging.getLogger("webcrypt")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

JOIN_TIMEOUT = 5.0
"""Seconds to wait for a closed server's loop to end (a kept-alive client may hold it)."""


class Wakeup:
    """Signals as flags, and a pipe that wakes the main thread when one arrives."""

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        """The SIGTERM or SIGINT that asked the process to stop, once one came."""
        self.stop_reason: str | None = None
        """Why the process stops: the signal's name, or what `request_stop` was told."""
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._previous: dict[int, Any] = {}
        self._previous_wakeup_fd: int | None = None

    def install(self, extra: Iterable[int] = ()) -> Wakeup:
        """Handle SIGTERM and SIGINT (and `extra` signals, which only wake `wait`)."""
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for stop in STOP_SIGNALS:
            self._previous[stop] = signal.signal(stop, self._on_stop_signal)
        for signum in extra:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def restore(self) -> None:
        """Put back the handlers `install` replaced, and close the pipe."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if self._previous_wakeup_fd is not None:
            signal.set_wakeup_fd(self._previous_wakeup_fd)
            self._previous_wakeup_fd = None
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def forget(self) -> None:
        """In a forked child: drop the parent's handlers and pipe without touching them."""
        for signum in self._previous:
            signal.signal(signum, signal.SIG_DFL)
        self._previous.clear()
        if self._previous_wakeup_fd is not None:
            signal.set_wakeup_fd(-1)
            self._previous_wakeup_fd = None
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def stopping(self) -> bool:
        """Tell whether a stop was asked for."""
        return self.stop_reason is not None

    def request_stop(self, reason: str) -> None:
        """Ask the main thread to stop (from any thread)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._wake()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a signal or `request_stop` wakes this process, or `timeout` passes."""
        readable, _, _ = select.select([self._read], [], [], timeout)
        if readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._read, 4096)

    def wait_for_stop(self) -> None:
        """Block until a stop is asked for."""
        while not self.stopping:
            self.wait()

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum
        if self.stop_reason is None:
            self.stop_reason = signal.Signals(signum).name
        self._wake()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # full pipe: a wakeup is pending
            os.write(self._write, b"\0")


def run_until_stopped(
    block: Callable[[], None] | None,
    cleanups: list[Callable[[], None]],
    wakeup: Wakeup | None = None,
) -> Wakeup:
    """Run `block` (a server loop) in a thread until SIGTERM or Ctrl-C, then clean up.

    The cleanups run in reverse order in the main thread; one of them must make `block`
    return (closing its server). `wakeup` is one installed earlier, so that a signal that
    came while the process was starting counts. Returns the `Wakeup`, which says why the
    process stopped.
    """
    wakeup = wakeup or Wakeup().install()
    thread: threading.Thread | None = None
    if block is not None:
        serve = block

        def run() -> None:
            try:
                serve()
            except Exception:
                if wakeup.stopping:
                    # Closing the server under its loop can make the loop's last poll fail.
                    log.debug("the server loop ended with an error while stopping", exc_info=True)
                else:
                    log.exception("the server loop failed")
            finally:
                wakeup.request_stop("the server loop ended")

        thread = threading.Thread(target=run, name="webcrypt-serve", daemon=True)
        thread.start()
    try:
        wakeup.wait_for_stop()
        click.echo("stopping: finishing messages in progress ...", err=True)
    finally:
        for cleanup in reversed(cleanups):
            try:
                cleanup()
            except Exception:
                log.exception("error while stopping")
        if thread is not None:
            thread.join(JOIN_TIMEOUT)
        wakeup.restore()
        click.echo("stopped", err=True)
    return wakeup
