"""A recording SMTP/LMTP sink on loopback that tests can tell to refuse or stall.

Usage::

    with RecordingSink() as sink:
        smtplib.SMTP(sink.host, sink.port).sendmail(...)
        sink.wait_for(1)
        assert sink.messages[0].rcpt_tos == [...]

    sink.refuse("451 4.3.0 try again later")     # every DATA is answered with this reply
    sink.refuse("550 5.1.1 no such user", at="RCPT")
    sink.stall(30)                                # DATA answers only after 30 s (or on stop)
    sink.accept()                                 # back to normal
    sink.on_data = callback                       # called at each end of data, before the reply
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.components import free_port


@dataclass
class Received:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str] = field(default_factory=list)
    peer: Any = None

    def parsed(self) -> EmailMessage:
        """Parse the message with the modern email policy."""
        message = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


class _Handler:
    """aiosmtpd handler that records messages or answers as it was told."""

    def __init__(self, sink: RecordingSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.sink._reply_for("RCPT", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list
    ) -> list:
        session.host_name = hostname
        if self.sink.pipelining:  # aiosmtpd reads pipelined commands one after another
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.sink.attempts += 1
        if self.sink.on_data is not None:
            self.sink.on_data()
        stall = self.sink._stall_seconds
        if stall:
            release = self.sink._release
            assert release is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), stall)
        reply = self.sink._reply_for("DATA", "")
        if reply:
            # LMTP wants one reply per recipient: aiosmtpd writes the lines as given.
            return "\r\n".join([reply] * len(envelope.rcpt_tos)) if self.sink.lmtp else reply
        content = envelope.original_content or b""
        received = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(content),
            mail_options=list(envelope.mail_options),
            peer=session.peer,
        )
        with self.sink._lock:
            self.sink.messages.append(received)
        if self.sink.lmtp:
            return "\r\n".join("250 2.0.0 OK" for _ in envelope.rcpt_tos)
        return "250 2.0.0 OK"


class _Controller(Controller):
    """Controller that builds an SMTP or LMTP server and remembers the server loop."""

    def __init__(self, handler: _Handler, *, lmtp: bool, **kwargs: Any) -> None:
        self._lmtp = lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        cls = _LongLinesLMTP if self._lmtp else _LongLinesSMTP
        return cls(self.handler, **self.SMTP_kwargs)


class _LongLinesSMTP(SMTP):
    """Accepts lines longer than RFC 5321's 1000 characters, as Postfix does."""

    line_length_limit = 1024 * 1024


class _LongLinesLMTP(LMTP):
    line_length_limit = 1024 * 1024


class RecordingSink:
    """An aiosmtpd server on 127.0.0.1 that records what arrives.

    `server_kwargs` go to aiosmtpd's SMTP class (for example ``tls_context``,
    ``authenticator``, ``auth_require_tls``); `pipelining` offers PIPELINING (RFC 2920).
    """

    def __init__(
        self,
        *,
        lmtp: bool = False,
        port: int | None = None,
        pipelining: bool = False,
        **server_kwargs: Any,
    ):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.lmtp = lmtp
        self.pipelining = pipelining
        self.messages: list[Received] = []
        self.attempts = 0
        self.on_data: Callable[[], None] | None = None
        """Called (in the sink's thread) when a message's data is in, before the reply."""
        self._lock = threading.Lock()
        self._replies: dict[str, str] = {}
        self._refuse_addresses: dict[str, str] = {}
        self._stall_seconds = 0.0
        self._release: asyncio.Event | None = None
        server_kwargs.setdefault("enable_SMTPUTF8", True)
        server_kwargs.setdefault("data_size_limit", None)
        self._controller = _Controller(
            _Handler(self),
            lmtp=lmtp,
            hostname=self.host,
            port=self.port,
            **server_kwargs,
        )
        self._running = False

    @property
    def url(self) -> str:
        """Relay URL of this sink."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> RecordingSink:
        """Start listening."""
        self._controller.start()
        loop = self._controller.loop
        self._release = asyncio.Event()
        # The event must belong to the server loop: create it there.
        future = asyncio.run_coroutine_threadsafe(self._make_event(), loop)
        self._release = future.result(5)
        self._running = True
        return self

    @staticmethod
    async def _make_event() -> asyncio.Event:
        return asyncio.Event()

    def stop(self) -> None:
        """Release stalled transactions and stop listening."""
        if not self._running:
            return
        self._running = False
        self.accept()
        self._controller.stop()

    def __enter__(self) -> RecordingSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ---------------------------------------------------------------------------

    def refuse(self, reply: str, *, at: str = "DATA", address: str | None = None) -> None:
        """Answer `at` ("RCPT" or "DATA") with `reply`; for RCPT optionally only for `address`."""
        if address is not None:
            self._refuse_addresses[address.lower()] = reply
        else:
            self._replies[at.upper()] = reply

    def stall(self, seconds: float) -> None:
        """Hold every DATA reply back for `seconds` (released early by `accept` or `stop`)."""
        self._stall_seconds = seconds

    def accept(self) -> None:
        """Go back to accepting everything and release stalled transactions."""
        self._replies.clear()
        self._refuse_addresses.clear()
        self._stall_seconds = 0.0
        release = self._release
        if release is not None and self._running:
            loop = self._controller.loop
            loop.call_soon_threadsafe(release.set)
            fresh = asyncio.run_coroutine_threadsafe(self._make_event(), loop).result(5)
            self._release = fresh

    def _reply_for(self, stage: str, address: str) -> str:
        if stage == "RCPT" and address.lower() in self._refuse_addresses:
            return self._refuse_addresses[address.lower()]
        return self._replies.get(stage, "")

    # -- inspection --------------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least `count` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def wait_for_attempt(self, timeout: float = 30.0) -> None:
        """Wait until a client has started a DATA transaction (accepted or not)."""
        deadline = time.monotonic() + timeout
        while self.attempts == 0:
            if time.monotonic() > deadline:
                raise AssertionError("no client reached the sink")
            time.sleep(0.05)

    def clear(self) -> None:
        """Forget recorded messages."""
        with self._lock:
            self.messages.clear()
            self.attempts = 0


def self_signed_tls(directory: str) -> tuple[Any, str]:
    """Return a server SSLContext for 127.0.0.1 with a fresh self-signed cert, and the cert path."""
    import datetime
    import ipaddress
    import os
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
