"""A trivial content filter that relays every message unchanged: proves the Postfix harness.

It keeps the filter's delivery contract (250 only after the relay accepted, 451
otherwise) and records the envelopes it saw, so harness tests can check what
Postfix handed to the filter independently of the real one.
"""

from __future__ import annotations

import asyncio
import smtplib
import threading
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Seen:
    """One transaction as the filter saw it."""

    mail_from: str
    rcpt_tos: list[str]


class _Relaying:
    def __init__(self, owner: PassThroughFilter) -> None:
        self.owner = owner

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mail_from = envelope.mail_from or ""
        rcpt_tos = list(envelope.rcpt_tos)
        with self.owner.lock:
            self.owner.seen.append(Seen(mail_from, rcpt_tos))
        try:
            await asyncio.to_thread(
                self.owner.relay, mail_from, rcpt_tos, bytes(envelope.original_content or b"")
            )
        except (OSError, smtplib.SMTPException) as exc:
            reply = f"451 4.4.0 relay failed: {exc}"
            return "\r\n".join(reply for _ in rcpt_tos) if self.owner.lmtp else reply
        if self.owner.lmtp:
            return "\r\n".join("250 2.0.0 relayed" for _ in rcpt_tos)
        return "250 2.0.0 relayed"


class _Controller(Controller):
    def __init__(self, handler: _Relaying, *, lmtp: bool, **kwargs: object) -> None:
        self._lmtp = lmtp
        super().__init__(handler, **kwargs)  # type: ignore[arg-type]

    def factory(self) -> SMTP:
        cls = LMTP if self._lmtp else SMTP
        return cls(self.handler, **self.SMTP_kwargs)


class PassThroughFilter:
    """An SMTP (or LMTP) server on 127.0.0.1:``port`` relaying to 127.0.0.1:``relay_port``."""

    def __init__(self, port: int, relay_port: int, *, lmtp: bool = False) -> None:
        self.port = port
        self.relay_port = relay_port
        self.lmtp = lmtp
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self._controller: _Controller | None = None

    def relay(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        """Hand the message on unchanged; raises when the relay does not accept it."""
        with smtplib.SMTP("127.0.0.1", self.relay_port, timeout=30) as client:
            client.sendmail(mail_from, rcpt_tos, data)

    def start(self) -> PassThroughFilter:
        """Start listening."""
        self._controller = _Controller(
            _Relaying(self),
            lmtp=self.lmtp,
            hostname="127.0.0.1",
            port=self.port,
            data_size_limit=None,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> PassThroughFilter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
