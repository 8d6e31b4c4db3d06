"""Hand finished mail on: a pooled SMTP client, or the `outbox:` directory sink.

`open_relay(url, timeout=...)` understands

* ``smtp://host:port`` (``?starttls=1`` upgrades the connection, ``&user=..&password=..``
  logs in, ``&verify=0`` accepts any certificate, ``&cafile=PATH`` trusts a private CA,
  ``&pool=N`` keeps up to N idle connections, ``&helo=NAME`` names this host),
* ``smtps://host:port`` (TLS from the first byte, same options),
* ``outbox:DIR`` (one ``.eml`` file per message, fsynced before `send` returns).

Every failure raises `RelayError`, whose `temporary` flag tells the caller whether a later
retry may succeed (answer 4xx) or not (5xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec
from urllib.parse import parse_qs, unquote, urlsplit

from webcrypt.mail.compose import SLICE, Chunks, joined
from webcrypt.mail.message import DOT_ATOM

log = logging.getLogger(__name__)
P = ParamSpec("P")

IDLE_SECONDS = 30.0
"""Pooled connections unused for longer are closed rather than reused."""

_BARE_LINE_END = re.compile(rb"\r\n|\r|\n")


class RelayError(Exception):
    """The relay did not take a message; `temporary` says whether retrying later may help."""

    def __init__(self, reason: str, *, temporary: bool = True, code: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary
        self.code = code


def _without_blocking(
    send: Callable[Concatenate[Relay, P], None],
) -> Callable[Concatenate[Relay, P], Awaitable[None]]:
    """Return `send` as a coroutine that runs it in the relay's threads."""

    async def in_thread(relay: Relay, /, *args: P.args, **kwargs: P.kwargs) -> None:
        call = functools.partial(send, relay, *args, **kwargs)
        await asyncio.get_running_loop().run_in_executor(relay._executor(), call)

    return in_thread


class Relay:
    """Interface of every relay: `send`, `send_async`, `close`; each implements `_deliver`."""

    description = "relay"

    def send(
        self,
        message: bytes | Chunks,
        *,
        mail_from: str,
        rcpt_tos: Sequence[str],
        crlf_only: bool = False,
    ) -> None:
        """Deliver `message` to `rcpt_tos`; return only once the relay took responsibility.

        `crlf_only` says that every line of `message` already ends in CRLF (mails built by
        `webcrypt.mail.compose.serialize` do), so the relay need not look for bare line ends.
        A message in `Chunks` is written out piece by piece, never joined (when `crlf_only`).
        """
        if rcpt_tos:
            self._deliver(message if crlf_only else crlf(joined(message)), mail_from, rcpt_tos)

    def _deliver(self, data: bytes | Chunks, mail_from: str, rcpt_tos: Sequence[str]) -> None:
        """Deliver CRLF `data` to at least one recipient (what each relay implements)."""
        raise NotImplementedError

    def _executor(self) -> ThreadPoolExecutor | None:
        return None

    send_async = _without_blocking(send)
    """Deliver like `send` without blocking the event loop."""

    def close(self) -> None:
        """Release pooled connections and threads."""


def crlf(message: bytes) -> bytes:
    """Return `message` with every line ending turned into CRLF, as SMTP requires."""
    line_ends = message.count(b"\r\n")
    if message.count(b"\n") == line_ends == message.count(b"\r"):
        return message
    return _BARE_LINE_END.sub(b"\r\n", message)


class SMTPRelay(Relay):
    """SMTP client that reuses connections, with STARTTLS, AUTH and a timeout per operation."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        implicit_tls: bool = False,
        starttls: bool = False,
        user: str = "",
        password: str = "",
        ssl_context: ssl.SSLContext | None = None,
        pool_size: int = 8,
        helo: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.user = user
        self.password = password
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.pool_size = pool_size
        self.helo = helo or socket.getfqdn()
        self.description = f"{'smtps' if implicit_tls else 'smtp'}://{host}:{port}"
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    max_workers=max(2, self.pool_size * 2), thread_name_prefix="relay"
                )
            return self._threads

    # -- connections -----------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        """Open, greet, secure and log in a fresh connection."""
        conn: smtplib.SMTP
        if self.implicit_tls:
            conn = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.helo,
                timeout=self.timeout,
                context=self.ssl_context,
            )
        else:
            conn = smtplib.SMTP(
                self.host, self.port, local_hostname=self.helo, timeout=self.timeout
            )
        try:
            # The final dot goes out at once, not after the relay's delayed ACK of the last
            # segment (Nagle): under load that held every mail about 40 ms, in the window
            # in which a crash of the filter sends the mail twice (docs/operations.md).
            if conn.sock is not None:  # connected by the constructor
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if self.starttls:
                if not conn.has_extn("starttls"):
                    raise RelayError(
                        f"{self.description} does not offer STARTTLS, which is configured"
                    )
                conn.starttls(context=self.ssl_context)
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password)
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    def _acquire(self) -> tuple[smtplib.SMTP, bool]:
        """Return a connection and whether it came from the pool."""
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, last_used = self._idle.pop()
            if now - last_used > IDLE_SECONDS:
                _close_quietly(conn)
                continue
            return conn, True
        return self._connect(), False

    def _release(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append((conn, time.monotonic()))
                return
        _close_quietly(conn)

    # -- sending ---------------------------------------------------------------------------

    def _deliver(self, data: bytes | Chunks, mail_from: str, rcpt_tos: Sequence[str]) -> None:
        """Send `data`; raise `RelayError` unless the relay accepted every recipient."""
        try:
            conn, reused = self._acquire()
        except RelayError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise _relay_error(self.description, exc) from exc
        try:
            try:
                self._transact(conn, data, mail_from, rcpt_tos)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # A pooled connection the server closed meanwhile: one fresh attempt is safe,
                # because the server had not accepted anything on it.
                _close_quietly(conn)
                conn = self._connect()
                self._transact(conn, data, mail_from, rcpt_tos)
        except RelayError:
            _close_quietly(conn)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(conn)
            raise _relay_error(self.description, exc) from exc
        except BaseException:
            _close_quietly(conn)
            raise
        self._release(conn)

    def _transact(
        self, conn: smtplib.SMTP, data: bytes | Chunks, mail_from: str, rcpt_tos: Sequence[str]
    ) -> None:
        """Run one MAIL/RCPT/DATA transaction of CRLF `data`, all recipients or none."""
        options: list[str] = []
        if _utf8(mail_from) or any(_utf8(r) for r in rcpt_tos):
            if not conn.has_extn("smtputf8"):
                raise RelayError(
                    f"{self.description} does not support SMTPUTF8, needed for this address",
                    temporary=False,
                )
            options.append("SMTPUTF8")
        elif conn.has_extn("smtputf8") and not _header_is_ascii(data):
            # Raw UTF-8 in the header fields (RFC 6532): say so when the server understands it.
            options.append("SMTPUTF8")
        if not _is_ascii(data) and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        if conn.has_extn("size"):
            options.append(f"SIZE={len(data)}")
        if conn.has_extn("pipelining") and all(
            _PLAIN_ADDRESS.match(address) for address in (mail_from, *rcpt_tos)
        ):
            self._pipelined_envelope(conn, mail_from, rcpt_tos, options)
        else:
            code, reply = _mail(conn, mail_from, options)
            if code != 250:
                self._abort(conn, code, reply, "sender")
            for rcpt in rcpt_tos:
                code, reply = _rcpt(conn, rcpt)
                if code not in (250, 251):
                    self._abort(conn, code, reply, "recipient")
            code, reply = conn.docmd("DATA")
            if code != 354:
                self._abort(conn, code, reply, "message")
        if isinstance(data, Chunks) or len(data) > SLICE:
            # Written a slice at a time: a large message is not copied whole.
            _send_stuffed(conn, data if isinstance(data, Chunks) else Chunks([data]))
        else:
            # Dot-stuffing without smtplib's regular expression: the data has CRLF line ends
            # only, so every line but the first starts right after a line feed. Looking first
            # is much cheaper than a replace that finds nothing, the usual case.
            if b"\n." in data:
                data = data.replace(b"\n.", b"\n..")
            if data.startswith(b"."):
                data = b"." + data
            ending = b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n"
            conn.send(data + ending)  # one write: a separate small one could wait for an ACK
        code, reply = conn.getreply()
        if code != 250:
            raise _refused(self.description, code, reply, "message")

    def _pipelined_envelope(
        self, conn: smtplib.SMTP, mail_from: str, rcpt_tos: Sequence[str], options: list[str]
    ) -> None:
        """MAIL, every RCPT and DATA in one write (RFC 2920), then their replies in order.

        One round trip instead of one per command. When the server refused the sender or a
        recipient and still answered DATA with 354, the transaction cannot be taken back:
        the caller closes the connection (as on every refusal), which discards it.
        """
        optionlist = " " + " ".join(options) if options else ""
        lines = [f"MAIL FROM:<{mail_from}>{optionlist}"]
        lines += [f"RCPT TO:<{rcpt}>" for rcpt in rcpt_tos]
        lines.append("DATA")
        conn.send(("\r\n".join(lines) + "\r\n").encode("utf-8"))
        refusal: RelayError | None = None
        code, reply = conn.getreply()
        if code != 250:
            refusal = _refused(self.description, code, reply, "sender")
        for _ in rcpt_tos:
            code, reply = conn.getreply()
            if code not in (250, 251) and refusal is None:
                refusal = _refused(self.description, code, reply, "recipient")
        code, reply = conn.getreply()
        if refusal is None and code != 354:
            refusal = _refused(self.description, code, reply, "message")
        if refusal is not None:
            raise refusal

    def _abort(self, conn: smtplib.SMTP, code: int, reply: bytes, what: str) -> None:
        """Reset the transaction so nothing is half-sent, then raise."""
        with contextlib.suppress(smtplib.SMTPException, OSError):
            conn.rset()
        raise _refused(self.description, code, reply, what)

    def close(self) -> None:
        """Quit every pooled connection and stop the worker threads."""
        with self._lock:
            idle, self._idle = self._idle, []
            threads, self._threads = self._threads, None
        for conn, _ in idle:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _close_quietly(conn)
        if threads is not None:
            threads.shutdown(wait=False)


def _header_is_ascii(data: bytes | Chunks) -> bool:
    """Tell whether the header block (up to the first empty line) is ASCII."""
    if isinstance(data, bytes):
        return data[: data.find(b"\r\n\r\n")].isascii()
    head = bytearray()
    for piece in data.slices():
        head += piece
        end = head.find(b"\r\n\r\n")
        if end >= 0:
            return head[:end].isascii()
    return head[:-1].isascii()


def _is_ascii(data: bytes | Chunks) -> bool:
    return data.isascii() if isinstance(data, bytes) else all(p.isascii() for p in data.slices())


def _send_stuffed(conn: smtplib.SMTP, data: Chunks, size: int = SLICE) -> None:
    """Write a message dot-stuffed, and the end of data, in writes of about `size` bytes.

    Small pieces (the carrier's header lines and parts) are gathered into one write: a write
    each cost a system call and, with Nagle off, a TCP segment each for the next hop to
    read. A write goes once the next piece would not fit; the last one carries the end of
    data (a separate small write could wait for an ACK).
    """
    batch: list[bytes] = []
    batched = 0
    line_start = True
    tail = b""  # the last two bytes of the message
    for piece in data.slices(size):
        if b"\n." in piece:
            piece = piece.replace(b"\n.", b"\n..")
        if line_start and piece.startswith(b"."):
            piece = b"." + piece
        line_start = piece.endswith(b"\n")
        tail = (tail + piece[-2:])[-2:]
        if batched and batched + len(piece) > size:
            conn.send(b"".join(batch))
            batch.clear()
            batched = 0
        batch.append(piece)
        batched += len(piece)
    batch.append(b".\r\n" if tail == b"\r\n" else b"\r\n.\r\n")
    conn.send(b"".join(batch))


# A dot-atom at a domain, as nearly every envelope address is: smtplib's quoteaddr would
# parse it with the email package only to put it in angle brackets unchanged.
_PLAIN_ADDRESS = re.compile(rf"{DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")


_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")


def _utf8(address: str) -> bool:
    """Tell whether an address needs SMTPUTF8: non-ASCII text (not just raw 8-bit bytes)."""
    return not address.isascii() and not _ESCAPED_BYTES.sub("", address).isascii()


def _raw_command(conn: smtplib.SMTP, command: str) -> tuple[int, bytes]:
    """Send a command whose address holds 8-bit bytes that are not UTF-8 (surrogate escapes).

    The filter passes an address on as it was given: those bytes go out as they came.
    """
    conn.send(command.encode("utf-8", "surrogateescape") + b"\r\n")
    return conn.getreply()


def _mail(conn: smtplib.SMTP, sender: str, options: list[str]) -> tuple[int, bytes]:
    """MAIL FROM as `smtplib.SMTP.mail` sends it, without re-parsing a plain address."""
    if _ESCAPED_BYTES.search(sender):
        optionlist = " " + " ".join(options) if options and conn.does_esmtp else ""
        return _raw_command(conn, f"MAIL FROM:<{sender}>{optionlist}")
    if not _PLAIN_ADDRESS.match(sender) or "SMTPUTF8" in options:
        return conn.mail(sender, options)
    optionlist = " " + " ".join(options) if options and conn.does_esmtp else ""
    conn.putcmd("mail", f"from:<{sender}>{optionlist}")
    return conn.getreply()


def _rcpt(conn: smtplib.SMTP, recipient: str) -> tuple[int, bytes]:
    """RCPT TO as `smtplib.SMTP.rcpt` sends it, without re-parsing a plain address."""
    if _ESCAPED_BYTES.search(recipient):
        return _raw_command(conn, f"RCPT TO:<{recipient}>")
    if not _PLAIN_ADDRESS.match(recipient):
        return conn.rcpt(recipient)
    conn.putcmd("rcpt", f"to:<{recipient}>")
    return conn.getreply()


def _refused(description: str, code: int, reply: bytes | str, what: str) -> RelayError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = text.replace("\n", " ")
    return RelayError(
        f"{description} refused the {what}: {code} {text}", temporary=code < 500, code=code
    )


def _relay_error(description: str, exc: BaseException) -> RelayError:
    """Describe a connection-level failure; all of these are worth a retry."""
    # smtplib turns a read timeout into SMTPServerDisconnected; the cause is kept as context.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return RelayError(f"{description} did not answer in time")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return RelayError(f"{description} rejected the login: {exc.smtp_code}", code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _refused(description, exc.smtp_code, exc.smtp_error, "connection")
    if isinstance(exc, ConnectionRefusedError):
        return RelayError(f"{description} refused the connection (is it running?)")
    return RelayError(f"{description} failed: {exc.__class__.__name__}: {exc}")


def _close_quietly(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()


class OutboxRelay(Relay):
    """Write each message as one ``.eml`` file, fsynced, instead of sending it anywhere."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.description = f"outbox:{self.directory}"

    def _deliver(self, data: bytes | Chunks, mail_from: str, rcpt_tos: Sequence[str]) -> None:
        """Write the message with its envelope as Return-Path/X-Envelope-To header lines."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        envelope = (
            f"Return-Path: <{mail_from}>\r\nX-Envelope-To: {', '.join(rcpt_tos)}\r\n"
        ).encode()
        temporary = self.directory / f".{name}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(envelope)
                    for piece in [data] if isinstance(data, bytes) else data:
                        handle.write(piece)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.directory / name)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            _fsync_directory(self.directory)
        except OSError as exc:
            raise RelayError(f"cannot write to {self.description}: {exc.strerror or exc}") from exc


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_relay(url: str, *, timeout: float) -> Relay:
    """Build the relay a URL names (see the module docstring for the forms)."""
    if url.startswith("outbox:"):
        directory = url.removeprefix("outbox:")
        if not directory:
            raise ValueError("outbox: needs a directory, e.g. outbox:var/outbox")
        return OutboxRelay(directory)
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"not a relay URL: {url!r} (use smtp://host:port or outbox:DIR)")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    context = ssl.create_default_context(cafile=query.get("cafile") or None)
    if query.get("verify", "1") in ("0", "false", "no"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return SMTPRelay(
        parts.hostname,
        parts.port or (465 if parts.scheme == "smtps" else 25),
        timeout=timeout,
        implicit_tls=parts.scheme == "smtps",
        starttls=query.get("starttls", "0") in ("1", "true", "yes"),
        user=unquote(query.get("user", parts.username or "")),
        password=unquote(query.get("password", parts.password or "")),
        ssl_context=context,
        pool_size=int(query.get("pool", "8")),
        helo=query.get("helo"),
    )
