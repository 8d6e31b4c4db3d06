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

from tests.support.cli import WEBCRYPT, clean_environment, serve_environ
from tests.support.components import free_port

pytestmark = pytest.mark.slow


def serve(workdir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `webcrypt serve` in `workdir` with `env`; its output is kept as text."""
    return subprocess.Popen(
        [*WEBCRYPT, "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_serve(workdir: Path) -> tuple[subprocess.Popen[str], int, int]:
    smtp_port, http_port = free_port(), free_port()
    env = serve_environ(smtp_port, http_port, WEBCRYPT_FILTER_INTERNAL_DOMAINS="bank.example")
    return serve(workdir, env), smtp_port, http_port


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


def test_send_test_reads_the_file_serve_runs_on_and_links_follow_the_port(tmp_path: Path) -> None:
    """Ports changed in webcrypt.toml only: every command and every link follow them."""
    smtp_port, http_port = free_port(), free_port()
    (tmp_path / "webcrypt.toml").write_text(
        f'[filter]\nlisten = "127.0.0.1:{smtp_port}"\ninternal_domains = ["bank.example"]\n'
        f'[portal]\nlisten = "127.0.0.1:{http_port}"\n',
        encoding="utf-8",
    )
    env = clean_environment()
    process = serve(tmp_path, env)
    try:
        wait_for(lambda: (tmp_path / "var" / "session.key").exists(), "the first start")

        def filter_up() -> bool:
            try:
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=2):
                    return True
            except OSError:
                return False

        wait_for(filter_up, "the filter")
        sent = subprocess.run(
            [*WEBCRYPT, "send-test", "--to", "kunde@example.com"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "one-time PIN from the adviser's notice" in sent.stdout
    secure_htm = next((tmp_path / "var" / "outbox").rglob("*.secure.htm"), None)
    assert secure_htm is not None
    assert f"http://127.0.0.1:{http_port}/".encode() in secure_htm.read_bytes()
    # The banner is the last thing at start-up: after it come only the logs of the test mail.
    lines = output.split("stopping:")[0].rstrip().splitlines()
    after = lines[lines.index("Stop with Ctrl-C.") + 1 :]
    assert all(" INFO webcrypt.smtp.handler message " in line for line in after), output
    assert f"config   {tmp_path / 'webcrypt.toml'}" in output or "config   webcrypt.toml" in output
    assert "WEBCRYPT_" not in output.split("WebCrypt ", 1)[1]
