"""A private Postfix instance in a temporary directory, configured from docs/postfix.md.

The instance has its own ``config_directory``, ``queue_directory`` and
``data_directory``, listens on loopback ports of its own, relays everything to
a test sink (``relayhost``) and logs to a file; the system's ``/etc/postfix``
is never read for configuration nor written. The content-filter part of the
configuration is the fenced blocks of ``docs/postfix.md`` marked
``<!-- postfix-test: NAME -->``, with the documented ports 10025 (filter) and
10026 (reinjection) replaced by free ones::

    with PostfixInstance(relay_port=sink.port) as mta:
        mta.submit("adviser@bank.example", ["customer@example.com"], message)
        mta.wait_until_empty()
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.components import free_port, need, need_program

POSTFIX = "/usr/sbin/postfix"
COMMAND_TIMEOUT = 60
"""Seconds a `postfix` or `postqueue` command may take: a hung instance fails the test."""
POSTQUEUE = "/usr/sbin/postqueue"
DOC = Path(__file__).resolve().parents[2] / "docs" / "postfix.md"
DOC_FILTER_PORT = 10025
DOC_REINJECT_PORT = 10026

_SNIPPET = re.compile(
    r"<!--\s*postfix-test:\s*(?P<name>[\w.-]+)\s*-->\s*\n```[\w-]*\n(?P<body>.*?)^```",
    re.S | re.M,
)

# Postfix's standard services, none chrooted (the queue directory is a temp dir).
_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


_TEMPLATE: list[Path] = []


def _queue_template() -> Path:
    """Return a queue directory laid out by Postfix once, for instances to copy.

    Creating the queue's folders and setting their owners is most of the time `postfix
    start` takes; copying a prepared, empty queue (owners kept) is instant.
    """
    if _TEMPLATE:
        return _TEMPLATE[0]
    root = Path(tempfile.mkdtemp(prefix="webcrypt-postfix-queue-"))
    root.chmod(0o755)
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    etc, spool = root / "etc", root / "spool"
    etc.mkdir()
    spool.mkdir()
    (etc / "main.cf").write_text(
        f"compatibility_level = 3.6\nqueue_directory = {spool}\ndata_directory = {root}\n"
        "mail_owner = postfix\nsetgid_group = postdrop\n"
    )
    (etc / "master.cf").write_text(_SERVICES)
    _settle(etc)
    subprocess.run(
        [POSTFIX, "-c", str(etc), "check"], capture_output=True, check=True, timeout=COMMAND_TIMEOUT
    )
    _TEMPLATE.append(spool)
    return spool


def _settle(config_dir: Path) -> None:
    """Date the configuration a minute back: `postfix` waits while it looks freshly edited."""
    settled = time.time() - 60
    for name in ("main.cf", "master.cf"):
        os.utime(config_dir / name, (settled, settled))


def doc_snippets(path: Path = DOC) -> dict[str, str]:
    """Return the marked configuration blocks of the Postfix guide by name."""
    found = {m["name"]: m["body"] for m in _SNIPPET.finditer(path.read_text(encoding="utf-8"))}
    if not found:
        raise AssertionError(f"no <!-- postfix-test: NAME --> blocks in {path}")
    return found


def render(snippet: str, *, filter_port: int, reinject_port: int) -> str:
    """Put test ports where the guide has the documented ones (10025, 10026)."""
    text = re.sub(rf"\b{DOC_FILTER_PORT}\b", str(filter_port), snippet)
    return re.sub(rf"\b{DOC_REINJECT_PORT}\b", str(reinject_port), text)


def need_postfix() -> None:
    """Skip (fail under CI) unless a Postfix that this user can start is installed."""
    need_program(POSTFIX)
    need_program(POSTQUEUE)
    need(os.geteuid() == 0, "a private Postfix instance must be started as root")
    roomy_log_socket()


DATAGRAM_QUEUE = Path("/proc/sys/net/unix/max_dgram_qlen")
"""How many messages a Unix datagram socket holds before its senders block (Linux)."""


def roomy_log_socket(room: int = 512) -> None:
    """Let Postfix's log socket hold `room` messages (Linux's default is 10).

    Every Postfix daemon logs through `postlogd` on a Unix datagram socket. When the
    daemons of a starting instance send more than the socket holds before `postlogd`
    reads, and `postlogd` then logs a line of its own through that same socket, it waits
    for itself: the instance hangs, and so does `postfix stop`. Raising the limit (for
    this network namespace; root only) makes that start-up burst fit.
    """
    with contextlib.suppress(OSError, ValueError):
        if int(DATAGRAM_QUEUE.read_text()) < room:
            DATAGRAM_QUEUE.write_text(str(room))


OWNER = "owner.pid"
"""The file in an instance's folder naming the test process that started it."""


def instance_processes(config_dir: Path) -> list[int]:
    """Find an instance's processes: Postfix exports MAIL_CONFIG to all of them."""
    marker = f"MAIL_CONFIG={config_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def stop_orphans() -> None:
    """Kill the instances whose test process died without stopping them (a killed run).

    Postfix's master is a daemon of its own: it outlives the test process, keeps retrying
    its queue into ports that later tests reuse, and would outlive the whole run.
    """
    for root in Path(tempfile.gettempdir()).glob("webcrypt-postfix-*"):
        try:
            owner = int((root / OWNER).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue  # not started yet, or not an instance of these tests
        if Path(f"/proc/{owner}").exists():
            continue
        for pid in instance_processes(root / "etc"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


class PostfixInstance:
    """One private Postfix: submission on ``smtp_port``, everything relayed to ``relay_port``.

    ``variant`` picks the guide's blocks: "smtp" (``main.cf`` + ``master.cf``) or
    "lmtp" (``main.cf-lmtp`` + ``master.cf-lmtp`` + the reinjection service of
    ``master.cf``). ``content_filter=False`` leaves the filter out (plain relay).
    ``main_extra`` is appended to main.cf before the guide's block, ``main_override`` after
    it (to try a setting the guide advises against).
    """

    def __init__(
        self,
        *,
        relay_port: int,
        filter_port: int | None = None,
        reinject_port: int | None = None,
        variant: str = "smtp",
        content_filter: bool = True,
        main_extra: str = "",
        main_override: str = "",
    ) -> None:
        need_postfix()
        self.relay_port = relay_port
        self.smtp_port = free_port()
        self.filter_port = filter_port or free_port()
        self.reinject_port = reinject_port or free_port()
        self.variant = variant
        self.content_filter = content_filter
        self.main_extra = main_extra
        self.main_override = main_override
        self.root = Path(tempfile.mkdtemp(prefix="webcrypt-postfix-"))
        # Postfix daemons run as the postfix user and must reach their directories.
        self.root.chmod(0o755)
        self.config_dir = self.root / "etc"
        self.queue_dir = self.root / "spool"
        self.data_dir = self.root / "data"
        self.log_file = self.root / "maillog"
        self._running = False

    # -- configuration ---------------------------------------------------------------------

    def main_cf(self) -> str:
        """Return the whole main.cf: the test's base settings, then the guide's block."""
        base = f"""\
compatibility_level = 3.6
config_directory = {self.config_dir}
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.bank.example
mydomain = bank.example
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{self.relay_port}
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_transport = error:local delivery is disabled
maillog_file = {self.log_file}
maillog_file_prefixes = {self.root}
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
transport_retry_time = 2s
smtp_connect_timeout = 5s
{self.main_extra}
"""
        if not self.content_filter:
            return base
        name = "main.cf" if self.variant == "smtp" else f"main.cf-{self.variant}"
        return base + "\n" + self._snippet(name) + self.main_override

    def master_cf(self) -> str:
        """Return the whole master.cf: submission, standard services, the guide's services."""
        text = f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd\n" + _SERVICES
        if not self.content_filter:
            return text
        smtp_services = self._snippet("master.cf")
        if self.variant == "smtp":
            return text + smtp_services
        # Other variants replace the filter transport and keep the guide's reinjection smtpd.
        reinjection = smtp_services[smtp_services.index(f"127.0.0.1:{self.reinject_port} ") :]
        return text + self._snippet(f"master.cf-{self.variant}") + reinjection

    def webcrypt_toml(self) -> str:
        """Return the guide's webcrypt.toml with this instance's ports."""
        return self._snippet("webcrypt.toml")

    def _snippet(self, name: str) -> str:
        snippets = doc_snippets()
        if name not in snippets:
            raise AssertionError(f"docs/postfix.md has no block marked postfix-test: {name}")
        ports = {"filter_port": self.filter_port, "reinject_port": self.reinject_port}
        return render(snippets[name], **ports)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> PostfixInstance:
        """Write the configuration, check it and start the instance."""
        for folder in (self.config_dir, self.data_dir):
            folder.mkdir()
        subprocess.run(["cp", "-a", str(_queue_template()), str(self.queue_dir)], check=True)
        shutil.chown(self.data_dir, user="postfix")
        (self.config_dir / "main.cf").write_text(self.main_cf(), encoding="utf-8")
        (self.config_dir / "master.cf").write_text(self.master_cf(), encoding="utf-8")
        _settle(self.config_dir)
        stop_orphans()
        (self.root / OWNER).write_text(str(os.getpid()), encoding="ascii")
        self._postfix("start")
        self._running = True
        self._wait_listening()
        return self

    def stop(self) -> None:
        """Stop the instance, kill whatever is left of it and remove its directory."""
        if self._running:
            self._running = False
            # A hung instance does not stop by itself: what is left is killed below.
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(
                    [POSTFIX, "-c", str(self.config_dir), "stop"],
                    capture_output=True,
                    check=False,
                    timeout=COMMAND_TIMEOUT,
                )
            deadline = time.monotonic() + 5
            while self._processes() and time.monotonic() < deadline:
                time.sleep(0.05)
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostfixInstance:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _postfix(self, command: str) -> None:
        try:
            result = subprocess.run(
                [POSTFIX, "-c", str(self.config_dir), command],
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"postfix {command} took over {COMMAND_TIMEOUT} s\n{self.log()}"
            ) from None
        if result.returncode != 0:
            raise AssertionError(
                f"postfix {command} failed ({result.returncode}): {result.stderr}\n{self.log()}"
            )

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=2) as client:
                    client.noop()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"postfix did not listen on {self.smtp_port}:\n{self.log()}")

    def _processes(self) -> list[int]:
        return instance_processes(self.config_dir)

    # -- mail ------------------------------------------------------------------------------

    def submit(
        self, mail_from: str, rcpt_tos: Sequence[str], message: bytes | str, **kwargs: object
    ) -> None:
        """Submit one message on the instance's smtpd, as a mail client would."""
        data = message.encode() if isinstance(message, str) else message
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
            client.sendmail(mail_from, list(rcpt_tos), data, **kwargs)  # type: ignore[arg-type]

    def queue(self) -> list[dict[str, Any]]:
        """Return the queue as ``postqueue -j`` reports it (one dict per message).

        showq reads the queue folders one after another, so a message that the queue
        manager moves from deferred to active meanwhile is listed twice: keep the first.
        """
        result = subprocess.run(
            [POSTQUEUE, "-c", str(self.config_dir), "-j"],
            capture_output=True,
            text=True,
            check=True,
            timeout=COMMAND_TIMEOUT,
        )
        listed: dict[str, dict[str, Any]] = {}
        for line in result.stdout.splitlines():
            if line.strip():
                item = json.loads(line)
                listed.setdefault(item["queue_id"], item)
        return list(listed.values())

    def flush(self) -> None:
        """Ask Postfix to retry every queued message now (``postqueue -f``)."""
        subprocess.run(
            [POSTQUEUE, "-c", str(self.config_dir), "-f"], check=True, timeout=COMMAND_TIMEOUT
        )

    def wait_until_empty(self, timeout: float = 30.0, *, flush: bool = False) -> None:
        """Wait until no message is queued; with ``flush`` keep asking for retries."""
        deadline = time.monotonic() + timeout
        last_flush = 0.0
        while time.monotonic() < deadline:
            if not self.queue():
                return
            if flush and time.monotonic() - last_flush > 1:
                self.flush()
                last_flush = time.monotonic()
            time.sleep(0.1)
        raise AssertionError(f"queue not empty: {self.queue()}\n{self.log()[-4000:]}")

    def wait_deferred(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` queued messages carry a deferral reason."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            deferred = [
                item
                for item in self.queue()
                if any(r.get("delay_reason") for r in item.get("recipients", []))
            ]
            if len(deferred) >= count:
                return deferred
            time.sleep(0.1)
        raise AssertionError(f"expected {count} deferred: {self.queue()}\n{self.log()[-4000:]}")

    def log(self) -> str:
        """Return the instance's mail log so far."""
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait until the mail log matches the regular expression ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log())
            if match:
                return match
            time.sleep(0.1)
        raise AssertionError(f"log never matched {pattern!r}:\n{self.log()[-4000:]}")
