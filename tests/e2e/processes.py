"""Run `webcrypt` commands as real processes, and give them databases of their own.

Used by the end-to-end suites and the Docker entry-command test: each process
gets its configuration from WEBCRYPT_* environment variables, exactly as a
container or a systemd unit would, and its output goes to a log file the test
prints when something goes wrong.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import signal
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tests.support.components import need

WEBCRYPT = str(Path(sys.executable).with_name("webcrypt"))
SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def new_secret() -> str:
    """Return 32 random bytes in base64, the form of the master key and session secret."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


class WebcryptProcess:
    """One `webcrypt ARGS...` subprocess with its output in `log_path`."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.args = args
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WebcryptProcess:
        """Start the process (its working directory is the log file's folder)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [WEBCRYPT, *self.args],
                env=self.env,
                cwd=self.log_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Return everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        """Send `signum` to the process."""
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """Wait for the process to end; return its exit status."""
        assert self.process is not None
        return self.process.wait(timeout)

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to end; return its exit status, or fail with its output."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            output = self.log()  # before the kill, so that it shows where the process hung
            self.kill()
            raise AssertionError(
                f"webcrypt {self.args} still running after {timeout} s:\n{output}"
            ) from None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; return the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL the process and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def wait_smtp(self, port: int, timeout: float = 30.0) -> None:
        """Wait until an SMTP server answers on 127.0.0.1:`port`."""
        self._wait(lambda: _smtp_ready(port), f"SMTP on port {port}", timeout)

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Wait until `url` answers 200."""
        self._wait(lambda: http_status(url) == 200, url, timeout)

    def _wait(self, ready: object, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"webcrypt {self.args} exited:\n{self.log()}")
            if ready():  # type: ignore[operator]
                return
            time.sleep(0.1)
        raise AssertionError(f"{what} not ready after {timeout} s:\n{self.log()}")


def _smtp_ready(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
            return client.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def http_status(url: str, timeout: float = 5.0) -> int:
    """Return the HTTP status of GET `url` (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


@contextlib.contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """Create an empty database on the local `backend` server; yield its URL; drop it."""
    server = SERVERS[backend]
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"wc_e2e_{secrets.token_hex(4)}"
    try:
        with engine.connect() as connection:
            options = " CHARACTER SET utf8mb4" if backend == "mariadb" else ""
            connection.execute(text(f"CREATE DATABASE {name}{options}"))
    except SQLAlchemyError as exc:
        engine.dispose()
        need(False, f"{backend} server is not reachable: {exc.__class__.__name__}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        engine.dispose()
