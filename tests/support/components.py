"""Skip locally, fail under CI, when a real component a test needs is absent; free ports.

What one pytest-xdist worker may take (ports, Redis databases) is never given to another.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
from collections.abc import Sequence
from typing import TypeVar

import pytest

T = TypeVar("T")


def under_ci() -> bool:
    """Tell whether the suite runs under CI, where missing components are failures."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(available: bool, reason: str) -> None:
    """Skip the calling test with `reason` when a component is missing (fail under CI)."""
    if available:
        return
    if under_ci():
        pytest.fail(f"required component missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need_program(path_or_name: str) -> str:
    """Return the full path of a program, or skip (fail under CI) when it is absent."""
    found = shutil.which(path_or_name) or (path_or_name if os.path.exists(path_or_name) else None)
    need(found is not None, f"{path_or_name} is not installed")
    assert found is not None
    return found


def worker_share(items: Sequence[T]) -> Sequence[T]:
    """Return this pytest-xdist worker's share of `items`: none of it goes to another worker.

    Outside pytest-xdist the share is everything; with more workers than items, the items.
    """
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return items[worker::count] or items


# Ports that free_port hands out: below the range the kernel picks from for bind(("", 0))
# and for outgoing connections (32768 and up on Linux, 49152 and up elsewhere), so none of
# them is taken by a server that binds port 0 or by a client while a test has yet to bind
# it. Each pytest-xdist worker of a run has a share of its own.
PORTS = range(20000, 32768)
_next_port: list[int] = []


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now and not handed out before.

    Ports go round this worker's share of PORTS from a random start, so a test that binds
    its port only later (a process still starting) never shares it with another test of
    this run.
    """
    ports = worker_share(PORTS)
    if not _next_port:
        _next_port.append(random.randrange(len(ports)))
    for _ in range(len(ports)):
        port = ports[_next_port[0] % len(ports)]
        _next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError(f"no free TCP port on 127.0.0.1 in {ports}")
