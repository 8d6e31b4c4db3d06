"""What every process needs at hand: configuration, keystore, settings, relays."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from keystore.addresses import is_internal
from keystore.clock import Clock, utcnow
from keystore.db import Keystore
from keystore.errors import KeystoreUnavailable
from keystore.masterkey import MasterKey, load_master_key
from keystore.settings import Settings
from webcrypt.config.loader import Config
from webcrypt.smtp.relay import open_relay

if TYPE_CHECKING:
    from webcrypt.smtp.relay import Relay

log = logging.getLogger(__name__)

SETTINGS_TTL = 30.0
"""Seconds a process trusts its copy of the admin settings: changes apply within a minute."""


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
        self.keystore = Keystore(config.keystore.url, master_key=self.master_key, clock=clock)
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

    def internal_domains(self) -> frozenset[str]:
        """Return the company's domains: the admin setting when set, else the configuration."""
        configured = self.settings().internal_domains or self.config.filter.internal_domains
        return frozenset(domain.lower() for domain in configured)

    def is_internal(self, address: str) -> bool:
        """Tell whether an address belongs to one of the company's domains."""
        return is_internal(address, self.internal_domains())

    def relay_for(self, kind: str) -> Relay:
        """Return the relay client for "filter" or "portal" mail (shared within the process)."""

        if kind not in self._relays:
            url = self.config.filter.relay if kind == "filter" else self.config.portal_relay
            self._relays[kind] = open_relay(url, timeout=float(self.config.filter.relay_timeout))
        return self._relays[kind]

    def close(self) -> None:
        """Release pooled connections and the database engine."""
        for relay in self._relays.values():
            close = getattr(relay, "close", None)
            if close is not None:
                close()
        self._relays.clear()
        self.keystore.engine.dispose()
