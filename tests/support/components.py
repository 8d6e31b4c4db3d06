"""Skip locally, fail under CI, when a real component a test needs is absent."""

from __future__ import annotations

import os
import shutil
import socket

import pytest


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


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
