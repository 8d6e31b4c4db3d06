"""The gateway under test: `webcrypt filter` processes beside a private Postfix.

`Gateway` owns the environment every WebCrypt process of one test shares
(keystore URL, master key, session secret, the guide's webcrypt.toml) and
starts, stops and kills filter and portal processes. `Mail` helpers classify
what arrived at the final sink: sealed carriers, plaintext copies, PIN mails.
"""

from __future__ import annotations

import atexit
import contextlib
import re
import shutil
import signal
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from tests.e2e.processes import WebcryptProcess, new_secret
from tests.support.cli import clean_environment
from tests.support.components import free_port
from tests.support.postfix import PostfixInstance
from tests.support.smtp import Received, RecordingSink

ADVISER = "adviser@bank.example"
COLLEAGUE = "colleague@bank.example"
PORTAL_URL = "https://secure.bank.example"
PIN = re.compile(r"\b(\d{4} \d{4})\b")
_SQLITE_TEMPLATE: list[Path] = []


class Gateway:
    """Configuration and processes of one WebCrypt installation used by a test."""

    def __init__(
        self,
        root: Path,
        *,
        relay_url: str | None = None,
        keystore_url: str | None = None,
        config_toml: str | None = None,
        **settings: str,
    ) -> None:
        self.root = root
        self.master_key = new_secret()
        env = {
            "WEBCRYPT_GENERAL_DATA_DIR": str(root / "data"),
            "WEBCRYPT_KEYSTORE_URL": keystore_url or f"sqlite:///{root / 'keystore.db'}",
            "WEBCRYPT_KEYSTORE_MASTER_KEY": self.master_key,
            "WEBCRYPT_PORTAL_SECRET_KEY": new_secret(),
            "WEBCRYPT_PORTAL_PUBLIC_URL": PORTAL_URL,
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
            # One adviser writes to more new recipients here than the hourly cap allows in
            # production; the cap has tests of its own (tests/filter/test_recipient_cap.py).
            "WEBCRYPT_FILTER_NEW_RECIPIENTS_PER_HOUR": "0",
            "WEBCRYPT_GENERAL_LOG_LEVEL": "info",
        }
        if config_toml is not None:
            config = root / "webcrypt.toml"
            config.write_text(config_toml, encoding="utf-8")
            env["WEBCRYPT_CONFIG"] = str(config)
            # The guide's file decides where the filter listens and relays.
            del env["WEBCRYPT_FILTER_INTERNAL_DOMAINS"]
        if relay_url is not None:
            env["WEBCRYPT_FILTER_RELAY"] = relay_url
        env.update(settings)
        self.env = clean_environment(**env)
        self.processes: list[WebcryptProcess] = []
        self._starting: list[Callable[[], None]] = []
        """How to wait for each process started but not yet known to serve."""
        self._count = 0

    def init(self) -> None:
        """Run `webcrypt init` (migrates the keystore).

        A fresh SQLite keystore holds nothing but its schema after `init`, so after the
        first real run in this test session the migrated file is copied instead.
        """
        url = self.env["WEBCRYPT_KEYSTORE_URL"]
        own_sqlite = url == f"sqlite:///{self.root / 'keystore.db'}"
        if own_sqlite and _SQLITE_TEMPLATE:
            shutil.copy(_SQLITE_TEMPLATE[0], self.root / "keystore.db")
            return
        process = self._process(["init"], {})
        process.start()
        assert process.wait(120) == 0, process.log()
        if own_sqlite:
            folder = Path(tempfile.mkdtemp(prefix="webcrypt-keystore-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            template = folder / "keystore.db"
            with (
                contextlib.closing(sqlite3.connect(self.root / "keystore.db")) as source,
                contextlib.closing(sqlite3.connect(template)) as copy,
            ):
                source.backup(copy)
            _SQLITE_TEMPLATE.append(template)

    def filter(self, port: int | None = None, *, wait: bool = True, **env: str) -> WebcryptProcess:
        """Start `webcrypt filter` on `port` (default: the configured listen address); with
        `wait`, return once it answers SMTP, else at once (then call `ready`)."""
        extra = dict(env)
        if port is not None:
            extra["WEBCRYPT_FILTER_LISTEN"] = f"127.0.0.1:{port}"
        listen = extra.get("WEBCRYPT_FILTER_LISTEN") or self._configured_listen()
        process = self._process(["filter"], extra).start()
        self._starting.append(lambda: process.wait_smtp(int(listen.rpartition(":")[2]), timeout=60))
        if wait:
            self.ready()
        return process

    def portal(
        self, port: int | None = None, *, wait: bool = True, **env: str
    ) -> tuple[WebcryptProcess, str]:
        """Start `webcrypt portal` (on a free port by default); return it and its base URL.

        With `wait` it answers /healthz by then, else call `ready` before using it.
        """
        port = port or free_port()
        process = self._process(["portal"], {"WEBCRYPT_PORTAL_LISTEN": f"127.0.0.1:{port}", **env})
        process.start()
        base = f"http://127.0.0.1:{port}"
        self._starting.append(lambda: process.wait_http(f"{base}/healthz", timeout=60))
        if wait:
            self.ready()
        return process, base

    def ready(self) -> None:
        """Wait until every process started without waiting serves."""
        while self._starting:
            self._starting.pop(0)()

    def _configured_listen(self) -> str:
        config = self.env.get("WEBCRYPT_CONFIG")
        text = Path(config).read_text() if config else ""
        match = re.search(r'^listen\s*=\s*"([^"]+)"', text, re.M)
        assert match, "no listen address configured"
        return match[1]

    def _process(self, args: list[str], extra: dict[str, str]) -> WebcryptProcess:
        self._count += 1
        log = self.root / f"{args[0]}-{self._count}.log"
        process = WebcryptProcess(args, {**self.env, **extra}, log)
        self.processes.append(process)
        return process

    def logs(self) -> str:
        """Everything the processes of this gateway printed (for failure messages)."""
        return "\n".join(f"--- {p.args} ---\n{p.log()[-3000:]}" for p in self.processes)

    def stop(self) -> None:
        """Stop every process that is still running.

        All get SIGTERM at once and drain side by side; then each is waited for (and killed
        when it takes longer than ten seconds). A process ignores any further SIGTERM.
        """
        for process in self.processes:
            if process.alive():
                process.signal(signal.SIGTERM)
        for process in self.processes:
            process.stop(timeout=10)

    def runtime(self) -> object:
        """A runtime on the same configuration, for looking into the keystore."""
        from keystore.masterkey import load_master_key
        from webcrypt.config.loader import load_config
        from webcrypt.runtime import Runtime

        config = load_config(environ=self.env)
        master_key = load_master_key(config.keystore.master_key_file, environ=self.env)
        return Runtime(config, master_key=master_key)

    def open_carrier(self, received: Received) -> EmailMessage:
        """Decrypt the secure.htm of a carrier with its recipient's key; return the original."""
        from webcrypt.envelope import open as open_envelope
        from webcrypt.envelope import parse
        from webcrypt.sealing.securehtm import extract_envelope

        envelope = parse(extract_envelope(secure_htm(received)))
        runtime = self.runtime()
        try:
            keystore = runtime.keystore  # type: ignore[attr-defined]
            with keystore.session() as session:
                recipients = keystore.recipients(session)
                recipient = recipients.get(envelope.header.recipient)
                assert recipient is not None, envelope.header.recipient
                key = recipients.key(recipient.id, envelope.header.key_version)
                assert key is not None
        finally:
            runtime.close()  # type: ignore[attr-defined]
        return parse_mail(open_envelope(envelope, key))

    def accounts(self) -> int:
        """Count recipient accounts in the keystore."""
        from keystore import reports

        runtime = self.runtime()
        try:
            keystore = runtime.keystore  # type: ignore[attr-defined]
            with keystore.session() as session:
                counts = reports.account_counts(session, keystore.clock())
                return counts.active + counts.deactivated
        finally:
            runtime.close()  # type: ignore[attr-defined]


def plain_text(message: EmailMessage) -> str:
    """The text/plain body of a parsed message (empty when it has none)."""
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def parse_mail(data: bytes) -> EmailMessage:
    """Parse RFC 5322 bytes with the modern policy."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def secure_htm(received: Received) -> bytes:
    """Return the secure.htm attachment of a carrier (AssertionError if there is none)."""
    for part in received.parsed().walk():
        if part.get_filename() == "secure.htm":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no secure.htm in the message")


def is_carrier(received: Received) -> bool:
    """Tell whether a received mail carries a secure.htm."""
    return any(p.get_filename() == "secure.htm" for p in received.parsed().walk())


@dataclass
class Sorted:
    """What arrived at the sink, by kind."""

    carriers: list[Received]
    plain: list[Received]
    pins: list[Received]

    def carriers_to(self, address: str) -> list[Received]:
        """Carriers whose envelope recipient is `address`."""
        return [c for c in self.carriers if c.rcpt_tos == [address]]


def sort_mail(messages: Iterable[Received]) -> Sorted:
    """Split sink messages into carriers, PIN mails (to the adviser) and plaintext mail."""
    carriers, plain, pins = [], [], []
    for message in messages:
        if is_carrier(message):
            carriers.append(message)
        elif message.rcpt_tos == [ADVISER] and PIN.search(body_text(message)):
            pins.append(message)
        else:
            plain.append(message)
    return Sorted(carriers, plain, pins)


def body_text(received: Received) -> str:
    """The text/plain content of a mail (empty when it has none)."""
    part = received.parsed().get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def mail(subject: str, to: str, body: str = "The confidential figures.", **headers: str) -> bytes:
    """Build a small message from the adviser."""
    lines = [
        f"From: Adviser <{ADVISER}>",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: <{uuid.uuid4().hex}@bank.example>",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        body,
        "",
    ]
    return "\r\n".join(lines).encode()


def first_sealed(
    mta: PostfixInstance, sink: RecordingSink, customer: str, subject: str, secret: str
) -> tuple[Received, str]:
    """Send `customer` a first sealed message through Postfix; return the carrier that arrived
    and the PIN from the adviser's mail."""
    mta.submit(ADVISER, [customer], mail(subject, customer, secret))
    mta.wait_until_empty()
    arrived = sort_mail(sink.wait_for(2))
    (carrier,) = arrived.carriers_to(customer)
    pin = PIN.search(body_text(arrived.pins[0]))
    assert pin, "no PIN in the adviser's mail"
    return carrier, pin[1]
