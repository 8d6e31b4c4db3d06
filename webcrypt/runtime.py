"""What every process needs at hand: configuration, keystore, settings, relays."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystore.addresses import is_internal
from keystore.clock import Clock, utcnow
from keystore.db import Keystore
from keystore.errors import KeystoreUnavailable
from keystore.masterkey import MasterKey, load_master_key
from keystore.passwords import Hasher
from keystore.settings import Settings
from webcrypt.config.loader import Config
from webcrypt.sealing.sms import SmsGateway, open_gateway
from webcrypt.smtp.relay import open_relay

if TYPE_CHECKING:
    from webcrypt.smtp.relay import Relay

log = logging.getLogger(__name__)

SETTINGS_TTL = 30.0
"""Seconds a process trusts its copy of the admin settings: changes apply within a minute."""

MMAP_THRESHOLD = 128 * 1024
"""Buffers at least this large get memory of their own from the system and give it back."""
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def return_large_buffers() -> None:
    """Make the C allocator hand every large buffer back to the system once it is freed.

    glibc raises its threshold for that to the size of the largest buffer freed so far (up
    to 32 MiB), after which the buffers of a message (its pieces as received, the message,
    the sealed payload) stay in the heap once freed: the process keeps up to twice the peak
    it needed. A fixed threshold keeps the resident size at what is in use. Nothing happens
    on other C libraries.

    Called by the processes that seal (the filter, `webcrypt seal`), where the memory bound
    of docs/operations.md depends on it. It costs every large buffer fresh pages from the
    system, so a process that runs only the portal keeps glibc's default: opening a 10 MB
    message took half as long again with it.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


@dataclass(frozen=True)
class InternalDomains:
    """The company's domains in force, and the two places they may come from."""

    domains: tuple[str, ...]
    """The domains the filter, the portal and housekeeping use, in the order given."""
    source: str
    """Where `domains` come from: "settings" (the admin setting) or "config" (the file)."""
    from_settings: tuple[str, ...]
    from_config: tuple[str, ...]


def effective_internal_domains(settings: Settings, configured: Sequence[str]) -> InternalDomains:
    """Return the company's domains: the admin setting when it lists any, else `configured`.

    They do not combine: domains set in the admin settings replace ``filter.internal_domains``
    of the configuration file, which serves until an admin sets some (and again when the
    setting is emptied). Lower-case, each domain once, in the order given.
    """
    from_settings = tuple(dict.fromkeys(d.lower() for d in settings.internal_domains))
    from_config = tuple(dict.fromkeys(str(d).lower() for d in configured))
    source = "settings" if from_settings else "config"
    domains = from_settings if from_settings else from_config
    return InternalDomains(domains, source, from_settings, from_config)


class Runtime:
    """Hold the long-lived collaborators of one process, built from its configuration."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = utcnow,
        master_key: MasterKey | None = None,
        settings_ttl: float = SETTINGS_TTL,
    ) -> None:
        self.config = config
        self.clock = clock
        self.master_key = master_key or load_master_key(config.keystore.master_key_file)
        self.keystore = Keystore(
            config.keystore.url,
            master_key=self.master_key,
            clock=clock,
            hasher=Hasher(concurrency=config.keystore.concurrent_hashes),
        )
        self._settings_ttl = settings_ttl
        self._settings: Settings | None = None
        self._settings_read_at = 0.0
        self._settings_lock = threading.Lock()
        self._relays: dict[str, Relay] = {}

    def settings(self) -> Settings:
        """Return the admin settings, re-read from the keystore at most every few seconds."""
        with self._settings_lock:
            now = time.monotonic()
            if self._settings is None or now - self._settings_read_at >= self._settings_ttl:
                try:
                    with self.keystore.session() as session:
                        self._settings = self.keystore.settings(session).get()
                    self._settings_read_at = now
                except KeystoreUnavailable:
                    if self._settings is None:
                        raise
                    log.warning("keystore unavailable; keeping the settings read before")
            return self._settings

    def refresh_settings(self) -> Settings:
        """Forget the cached settings and read them again (after a change in this process)."""
        with self._settings_lock:
            self._settings = None
        return self.settings()

    def internal_domains(self) -> InternalDomains:
        """Return the company's domains in force (see `effective_internal_domains`)."""
        return effective_internal_domains(self.settings(), self.config.filter.internal_domains)

    def is_internal(self, address: str) -> bool:
        """Tell whether an address belongs to one of the company's domains."""
        return is_internal(address, self.internal_domains().domains)

    def relay_for(self, kind: str) -> Relay:
        """Return the relay client for "filter" or "portal" mail (shared within the process)."""

        if kind not in self._relays:
            url = self.config.filter.relay if kind == "filter" else self.config.portal_relay
            self._relays[kind] = open_relay(url, timeout=float(self.config.filter.relay_timeout))
        return self._relays[kind]

    def sms_gateway(self) -> SmsGateway | None:
        """Return the configured SMS gateway for PINs, or None when there is none."""
        sms = self.config.sms
        return open_gateway(sms.gateway, token=sms.token, timeout=float(sms.timeout))

    def close(self) -> None:
        """Release pooled connections and the database engine."""
        for relay in self._relays.values():
            close = getattr(relay, "close", None)
            if close is not None:
                close()
        self._relays.clear()
        self.keystore.engine.dispose()
