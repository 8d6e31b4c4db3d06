"""The SMTP/LMTP content filter: a thin aiosmtpd edge around `Sealer` and the relay.

This is the only place where errors become SMTP replies. A temporary condition (keystore or
relay down, overload, an error of ours that is not about the message) is a 4xx, so the
sending MTA keeps the message and retries; a message that cannot be handled because of what
it contains (over a MIME limit, content the gateway cannot encrypt) gets a 5xx that says why,
as does anything else a retry cannot fix (too big, ``#secure`` to an internal address, mail to
seal from a client outside ``trusted_networks`` or whose From: is not its envelope sender, more
new recipients in one message than the hourly cap, a relay that refused for good). Mail without
a trigger is never refused for its content. 250 goes out only after the relay took every
resulting mail.

Entry points: `FilterServer(runtime)` with ``start()`` / ``stop(drain_timeout)`` runs the
server on its own event loop thread (used by ``webcrypt filter`` and ``webcrypt serve``);
`run(runtime, ready=...)` blocks until SIGTERM or Ctrl-C and then drains.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from webcrypt import metrics
from webcrypt.mail.message import has_secure_suffix
from webcrypt.smtp.delivery import Delivery, Outcome
from webcrypt.smtp.sealer import secure_to_internal_reason
from webcrypt.smtp.server import FilterLMTP, FilterSMTP

log = logging.getLogger(__name__)

IDLE_TIMEOUT_MINIMUM = 660.0
"""Idle timeout floor: above Postfix's 600 s wait for the DATA reply, so we never hang up first."""


Network = IPv4Network | IPv6Network


def is_trusted(peer: Any, networks: Sequence[Network]) -> bool:
    """Tell whether an SMTP client's address (aiosmtpd's ``session.peer``) is in `networks`.

    An IPv4 client seen on a dual-stack socket (``::ffff:10.1.2.3``) counts as its IPv4
    address; anything that is not an IP address (a Unix socket, no peer) is not trusted.
    """
    host = peer[0] if isinstance(peer, tuple) and peer else peer
    try:
        address = ip_address(str(host).partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class FilterHandler:
    """aiosmtpd hooks: refuse ``#secure`` to internal addresses, deliver on DATA."""

    def __init__(
        self,
        delivery: Delivery,
        *,
        lmtp: bool,
        gate_wait: float,
        trusted_networks: Sequence[str] = (),
    ) -> None:
        self.delivery = delivery
        self.lmtp = lmtp
        self.gate_wait = gate_wait
        self.gate: asyncio.Semaphore | None = None
        self.busy = 0
        self.trusted_networks = [ip_network(network) for network in trusted_networks]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept a recipient, except ``#secure`` on an internal address."""
        if has_secure_suffix(address):
            try:
                internal = await asyncio.to_thread(self.delivery.sealer.is_internal, address)
            except Exception as exc:
                return await self.handle_exception(exc)
            if internal:
                return f"550 5.7.1 {secure_to_internal_reason(address)}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str | list[str]:
        """Seal and relay; one reply (SMTP) or one per recipient (LMTP)."""
        trusted = is_trusted(session.peer, self.trusted_networks)
        if not trusted:
            log.info("client %s is not in filter.trusted_networks: nothing sealed", session.peer)
        outcomes = await self.delivery.deliver(
            envelope.original_content or b"",
            envelope.mail_from or "",
            list(envelope.rcpt_tos),
            trusted=trusted,
        )
        replies = [reply(outcome) for outcome in outcomes]
        return replies if self.lmtp else combine(replies)

    async def handle_exception(self, error: Exception) -> str:
        """Turn any unexpected error into a 451, so the MTA retries instead of bouncing."""
        log.error("unexpected error in the filter: %r", error, exc_info=error)
        metrics.MESSAGES.labels(reply="4xx").inc()
        return "451 4.3.0 Temporary error in the content filter; try again later"


_TEMPORARY = {
    "keystore": "451 4.3.0 The key store is unavailable; try again later",
    "sealing": "451 4.3.0 Temporary error while sealing the message; try again later",
}
_REFUSED = {
    "internal-secure": "550 5.7.1",
    "address": "550 5.1.3",
    # What the message contains, not a passing condition: a retry would fail the same way.
    "content": "554 5.6.0",
    "limits": "552 5.3.4",
    "mailbox-full": "552 5.2.2",
}
_DEFERRED = {"recipient-cap": "451 4.7.1"}
"""Temporary refusals whose reason the sender should read."""


def reply(outcome: Outcome) -> str:
    """The SMTP reply line for one recipient's outcome."""
    if outcome.ok:
        return f"250 2.0.0 OK {outcome.decision}"
    if outcome.result == "refused":
        return f"{_REFUSED.get(outcome.cause, '550 5.7.1')} {outcome.reason}"
    if outcome.cause == "relay":
        code = "451 4.4.1" if outcome.result == "deferred" else "554 5.4.1"
        return f"{code} Could not pass the message on: {outcome.reason}"
    if outcome.cause in _DEFERRED:
        return f"{_DEFERRED[outcome.cause]} {outcome.reason}"
    return _TEMPORARY.get(outcome.cause, _TEMPORARY["sealing"])


def combine(replies: list[str]) -> str:
    """Fold per-recipient replies into one SMTP reply: any 4xx wins, then any 5xx."""
    for first_digit in ("4", "5"):
        for reply in replies:
            if reply.startswith(first_digit):
                return reply
    return replies[0] if replies else "250 2.0.0 OK"


class FilterServer:
    """The filter on its own asyncio loop in a thread: ``start()``, then ``stop()``."""

    def __init__(
        self,
        runtime: Any,
        *,
        listen: str | None = None,
        protocol: str | None = None,
        settings_interval: float = 10.0,
    ):
        config = runtime.config.filter
        self.runtime = runtime
        self.listen = listen or str(config.listen)
        self.protocol = protocol or str(config.protocol)
        self.max_transactions = int(config.max_transactions)
        self.idle_timeout = max(float(config.idle_timeout), IDLE_TIMEOUT_MINIMUM)
        self.delivery = Delivery(runtime, per_recipient=self.protocol == "lmtp")
        self.handler = FilterHandler(
            self.delivery,
            lmtp=self.protocol == "lmtp",
            gate_wait=min(float(config.relay_timeout), 100.0),
            trusted_networks=config.trusted_networks,
        )
        if not config.trusted_networks:
            log.warning("filter.trusted_networks is empty: no message will be sealed")
        self.loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()
        self.loop.close()  # a fresh loop is made by each start()
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[SMTP] = set()
        self._thread: threading.Thread | None = None
        self._metrics: Any = None
        self._size_limit = 10 * 1024 * 1024
        self._settings_interval = settings_interval
        self._refresher: asyncio.Task[None] | None = None

    def _protocol(self) -> SMTP:
        cls = FilterLMTP if self.protocol == "lmtp" else FilterSMTP
        server = cls(
            self.handler,
            data_size_limit=self._size_limit,
            enable_SMTPUTF8=True,
            timeout=self.idle_timeout,
            hostname=None,
            loop=self.loop,
        )
        self._connections.add(server)
        lost = server.connection_lost

        def forget(error: Exception | None) -> None:
            self._connections.discard(server)
            lost(error)

        # Chained on this one connection (asyncio calls it when the client goes away).
        server.connection_lost = forget  # type: ignore[method-assign]
        return server

    async def _read_size_limit(self) -> None:
        """Take the size limit from the admin settings, off the event loop."""
        settings = await asyncio.to_thread(self.runtime.settings)
        self._size_limit = int(settings.max_message_size)

    async def _refresh_settings(self) -> None:
        """Keep the size limit current without blocking the loop on the keystore."""
        while True:
            try:
                await self._read_size_limit()
            except Exception as exc:  # keep the last known limit while the keystore is away
                log.warning("cannot read settings: %s", exc)
            await asyncio.sleep(self._settings_interval)

    async def _start(self) -> None:
        self.handler.gate = asyncio.Semaphore(self.max_transactions)
        host, _, port = self.listen.rpartition(":")
        try:
            await self._read_size_limit()
        except Exception as exc:  # serve anyway: messages get 451 until the keystore is back
            log.warning(
                "cannot read settings at start (%s); using a %d byte limit for now",
                exc,
                self._size_limit,
            )
        self._server = await self.loop.create_server(
            self._protocol, host=host.strip("[]") or "127.0.0.1", port=int(port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._refresher = self.loop.create_task(self._refresh_settings())

    def start(self) -> None:
        """Listen and serve in a background thread; return once the socket is bound."""
        if not log.isEnabledFor(logging.DEBUG):
            # aiosmtpd logs every command, recipients included, at INFO: keep them out.
            logging.getLogger("mail.log").setLevel(logging.WARNING)
        started = threading.Event()
        failure: list[BaseException] = []
        if self.loop.is_closed():
            self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(
            ThreadPoolExecutor(max_workers=self.max_transactions + 4, thread_name_prefix="filter")
        )

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self._start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=main, name="webcrypt-filter", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        self._metrics = metrics.serve_metrics(str(self.runtime.config.filter.metrics_listen))
        log.info("filter listening on %s (%s)", self.listen, self.protocol)

    async def _drain(self, timeout: float) -> None:
        assert self._server is not None
        self._server.close()
        if self._refresher is not None:
            self._refresher.cancel()
        deadline = self.loop.time() + timeout
        while self.handler.busy and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self.handler.busy:
            log.warning("stopping with %d transactions unfinished", self.handler.busy)
        for connection in list(self._connections):
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                if isinstance(transport, asyncio.WriteTransport):
                    transport.write(b"421 4.3.2 Shutting down; try again later\r\n")
                transport.close()
        await asyncio.sleep(0.05)

    def stop(self, drain_timeout: float = 30.0) -> None:
        """Stop accepting, let transactions in progress finish (up to the timeout), stop."""
        if self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._drain(drain_timeout), self.loop)
        try:
            future.result(drain_timeout + 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self._thread = None
            metrics.stop_metrics(self._metrics)
            self.loop.close()


def run(runtime: Any, *, ready: Callable[[FilterServer], None] | None = None) -> None:
    """Run the filter until SIGTERM or Ctrl-C, then drain and return."""
    server = FilterServer(runtime)
    server.start()
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        if ready is not None:
            ready(server)
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
