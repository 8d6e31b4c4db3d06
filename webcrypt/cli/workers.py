"""`webcrypt filter --workers N`: N filter processes on one listening port.

The parent binds one socket per worker to the filter's address, all with SO_REUSEPORT, so
the kernel spreads new connections over them; then it forks one worker per socket. A
worker is a complete filter (its own keystore connections, relay pool, event loop and
threads): the workers share nothing but the keystore. The parent stays single-threaded
(forking a process that runs threads is unsafe) and only watches:

* a worker that exits on its own is started again on the same socket (connections that
  arrived meanwhile wait in that socket's queue), with a log line, at most once a second;
* SIGTERM or Ctrl-C: the parent closes its copies of the sockets and sends SIGTERM to every
  worker; each stops accepting, finishes the messages it has accepted (the filter's drain)
  and exits; the parent exits 0 when all have exited 0 (a worker still busy after the
  drain time is killed);
* a worker gets SIGKILL when the parent dies, whatever killed it (no orphans keep serving).

Worker 0 also runs the housekeeping jobs when they run inside the filter, and worker i
serves /metrics on the configured metrics port plus i.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from webcrypt.cli.stopping import STOP_SIGNALS, Wakeup
from webcrypt.config.loader import Config

log = logging.getLogger("webcrypt.workers")

RESTART_INTERVAL = 1.0
"""Seconds between two starts of the same worker, so a worker that cannot start does not
make the parent fork in a tight loop."""

KILL_MARGIN = 15.0
"""Seconds the parent waits beyond the workers' drain time before it kills a worker."""

_PR_SET_PDEATHSIG = 1


def worker_count(configured: int) -> int:
    """The number of workers: `configured`, or one per core this process may use when 0."""
    if configured > 0:
        return configured
    return max(1, len(os.sched_getaffinity(0)))


def listening_sockets(listen: str, count: int) -> list[socket.socket]:
    """Bind `count` sockets to "host:port" with SO_REUSEPORT (port 0: one free port for all)."""
    host, _, port = listen.rpartition(":")
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]") or "127.0.0.1", int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if len(sockets) > 1:  # the port the first socket got
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(socket.SOMAXCONN)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def worker_config(config: Config, slot: int) -> Config:
    """The configuration of worker `slot`: its own /metrics port (the configured one + slot)."""
    metrics = str(config.filter.metrics_listen)
    if not metrics or slot == 0:
        return config
    host, _, port = metrics.rpartition(":")
    section = dataclasses.replace(config.filter, metrics_listen=f"{host}:{int(port) + slot}")
    return dataclasses.replace(config, filter=section)


WorkerMain = Callable[[Config, socket.socket, int, Wakeup], int]
"""Run worker (slot) on its socket until its `Wakeup` says stop; return the exit status."""


@dataclass
class Worker:
    """One forked worker process."""

    slot: int
    pid: int
    started: float


class Supervisor:
    """Fork the workers, restart those that die, and drain them all on SIGTERM."""

    def __init__(
        self,
        config: Config,
        sockets: list[socket.socket],
        worker_main: WorkerMain,
        *,
        drain_timeout: float,
    ) -> None:
        self.config = config
        self.sockets = sockets
        self.worker_main = worker_main
        self.drain_timeout = drain_timeout
        self.workers: dict[int, Worker] = {}  # by pid
        self._last_start: dict[int, float] = {}
        self._wakeup = Wakeup()
        self._parent = os.getpid()

    def run(self, ready: Callable[[], None] | None = None) -> int:
        """Serve until SIGTERM or Ctrl-C; return the exit status of the whole filter."""
        self._wakeup.install(extra=[signal.SIGCHLD])
        try:
            for slot in range(len(self.sockets)):
                self._start(slot)
            if ready is not None:
                ready()
            while not self._wakeup.stopping:
                self._reap_and_restart()
                self._wakeup.wait(timeout=self._next_restart_due())
            return self._drain()
        finally:
            for sock in self.sockets:
                sock.close()
            self._wakeup.restore()

    def _next_restart_due(self) -> float | None:
        """Seconds until a slot without a worker may be started again (None: none missing)."""
        running = {worker.slot for worker in self.workers.values()}
        missing = [slot for slot in range(len(self.sockets)) if slot not in running]
        if not missing:
            return None
        now = time.monotonic()
        return max(0.0, min(self._last_start[slot] + RESTART_INTERVAL - now for slot in missing))

    def _reap_and_restart(self) -> None:
        for worker, status in self._reap():
            log.error(
                "filter worker %d (pid %d) %s; starting a new one",
                worker.slot,
                worker.pid,
                describe_status(status),
            )
        running = {worker.slot for worker in self.workers.values()}
        now = time.monotonic()
        for slot in range(len(self.sockets)):
            if slot not in running and now - self._last_start[slot] >= RESTART_INTERVAL:
                self._start(slot)

    def _reap(self) -> list[tuple[Worker, int]]:
        """Collect the workers that have exited; return each with its wait status."""
        ended = []
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            worker = self.workers.pop(pid, None)
            if worker is not None:
                ended.append((worker, status))
        return ended

    def _start(self, slot: int) -> None:
        self._last_start[slot] = time.monotonic()
        sys.stdout.flush()
        sys.stderr.flush()
        # A stop signal that comes while the child sets up its handlers waits for them.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = os.fork()
        if pid:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            self.workers[pid] = Worker(slot, pid, time.monotonic())
            return
        status = 70  # EX_SOFTWARE: the worker ended without a status of its own
        try:
            status = self._child(slot, mask)
        except BaseException:
            log.exception("filter worker %d failed", slot)
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def _child(self, slot: int, mask: set[int | signal.Signals]) -> int:
        """In the forked worker: die with the parent, keep only its socket, run."""
        _die_with_parent(self._parent)
        self._wakeup.forget()
        wakeup = Wakeup().install()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for other, sock in enumerate(self.sockets):
            if other != slot:
                sock.close()
        log.info("filter worker %d started (pid %d)", slot, os.getpid())
        config = worker_config(self.config, slot)
        return self.worker_main(config, self.sockets[slot], slot, wakeup)

    def _drain(self) -> int:
        """Stop every worker after the messages it has accepted; return the exit status."""
        for sock in self.sockets:  # new connections are refused once the workers close theirs
            sock.close()
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.drain_timeout + KILL_MARGIN
        failed = False
        while self.workers:
            for worker, status in self._reap():
                code = os.waitstatus_to_exitcode(status)
                if code != 0:
                    failed = True
                    log.error(
                        "filter worker %d (pid %d) %s while stopping",
                        worker.slot,
                        worker.pid,
                        describe_status(status),
                    )
            remaining = deadline - time.monotonic()
            if self.workers and remaining <= 0:
                for pid, worker in self.workers.items():
                    log.error(
                        "filter worker %d (pid %d) did not stop: killing it", worker.slot, pid
                    )
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + KILL_MARGIN
                failed = True
            elif self.workers:
                self._wakeup.wait(timeout=min(remaining, 1.0))
        return 1 if failed else 0


def describe_status(status: int) -> str:
    """Say how a process ended, from its wait status."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGKILL when `parent` dies (PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("cannot tie the worker to its parent: %s", os.strerror(ctypes.get_errno()))
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
