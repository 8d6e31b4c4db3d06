"""`webcrypt serve` on the embedded defaults: starts, seals a mail, serves the portal, stops."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.cli import WEBCRYPT, serve_environ
from tests.support.components import free_port

pytestmark = pytest.mark.slow


def start_serve(workdir: Path) -> tuple[subprocess.Popen[str], int, int]:
    smtp_port, http_port = free_port(), free_port()
    env = serve_environ(smtp_port, http_port, WEBCRYPT_FILTER_INTERNAL_DOMAINS="bank.example")
    process = subprocess.Popen(
        [*WEBCRYPT, "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, smtp_port, http_port


def wait_for(predicate: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_starts_seals_and_stops_cleanly(tmp_path: Path) -> None:
    process, smtp_port, http_port = start_serve(tmp_path)
    try:
        wait_for(lambda: (tmp_path / "var" / "master.key").exists(), "the master key")

        def portal_up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/upload", timeout=2):
                    return True
            except OSError:
                return False

        wait_for(portal_up, "the portal")
        message = EmailMessage()
        message["From"] = "adviser@bank.example"
        message["To"] = "kunde@example.com"
        message["Subject"] = "Ihr Vertrag WebCrypt"
        message.set_content("Vertraulich: Kontonummer 123")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.send_message(message)
        outbox = tmp_path / "var" / "outbox"
        mails = [p.read_bytes() for p in outbox.glob("*.eml")]
        assert len(mails) == 2  # the carrier and the adviser's PIN mail
        assert all(b"Kontonummer" not in mail for mail in mails)
        assert any(b'filename="secure.htm"' in mail for mail in mails)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"127.0.0.1:{smtp_port}" in output and f"127.0.0.1:{http_port}" in output
    assert "stopped" in output
    assert "Traceback" not in output
    assert "Kontonummer" not in output
