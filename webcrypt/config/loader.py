"""One typed configuration schema: defaults, help and validation per option.

Values come from three places, later ones winning: the defaults below, the
TOML file (``--config`` or ``WEBCRYPT_CONFIG``, else the first of `DEFAULT_FILES` that
exists), and environment variables named ``WEBCRYPT_<SECTION>_<KEY>`` (lists
comma-separated). An empty ``portal.public_url`` is derived from ``portal.listen``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import textwrap
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from webcrypt.config.errors import ConfigError as ConfigError
from webcrypt.config.options import SCHEMA, SECTION_NOTES, Option

__all__ = [
    "DEFAULT_FILES",
    "SCHEMA",
    "Config",
    "ConfigError",
    "Option",
    "default_file",
    "load_config",
    "reference",
]

DEFAULT_FILES = ("webcrypt.toml", "var/webcrypt.toml")
"""Where every `webcrypt` command looks for its file when none is named: the current folder,
then the default data folder. So `serve`, `send-test` and `admin` read the same settings."""

DERIVED = "portal.listen"
"""The origin `Config.describe` gives a public URL that was not configured."""


@dataclass(frozen=True)
class GeneralSection:
    """The values of [general] (see `webcrypt.config.options.SCHEMA` for each key)."""

    data_dir: str
    log_level: str


@dataclass(frozen=True)
class KeystoreSection:
    """The values of [keystore]."""

    url: str
    master_key_file: str
    concurrent_hashes: int


@dataclass(frozen=True)
class FilterSection:
    """The values of [filter]."""

    listen: str
    protocol: str
    relay: str
    internal_domains: tuple[str, ...]
    relay_timeout: float
    max_transactions: int
    queue_lifetime_days: int
    workers: int
    idle_timeout: int
    metrics_listen: str
    trusted_networks: tuple[str, ...]
    new_recipients_per_hour: int
    memory_budget: int


@dataclass(frozen=True)
class PortalSection:
    """The values of [portal]."""

    listen: str
    public_url: str
    public_url_aliases: tuple[str, ...]
    delivery_choice: bool
    relay: str
    secret_key_file: str
    ratelimit_storage: str
    threads: int
    trusted_proxies: int
    metrics_token: str


@dataclass(frozen=True)
class LimitsSection:
    """The values of [limits]."""

    max_depth: int
    max_parts: int
    max_header_bytes: int
    max_line_length: int


@dataclass(frozen=True)
class HousekeepingSection:
    """The values of [housekeeping]."""

    mode: str
    interval: int


@dataclass(frozen=True)
class MailboxSection:
    """The values of [mailbox]."""

    default_method: str = "attachment"
    when_full: str = "refuse"
    notification_subject: bool = False


@dataclass(frozen=True)
class SmsSection:
    """The values of [sms]."""

    gateway: str
    token: str
    timeout: float


@dataclass(frozen=True)
class Config:
    """The effective configuration and where it came from."""

    general: GeneralSection
    keystore: KeystoreSection
    filter: FilterSection
    portal: PortalSection
    limits: LimitsSection
    housekeeping: HousekeepingSection
    sms: SmsSection
    mailbox: MailboxSection = field(default_factory=MailboxSection)
    source: str = "built-in defaults"
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return Path(self.general.data_dir)

    @property
    def portal_relay(self) -> str:
        return str(self.portal.relay or self.filter.relay)

    def describe(self) -> list[tuple[str, str, str]]:
        """Return (key, shown value, origin) rows with secrets masked."""
        rows = []
        for section, options in SCHEMA.items():
            for option in options:
                value = getattr(getattr(self, section), option.name)
                shown = _mask(value) if option.secret else _show(value)
                key = f"{section}.{option.name}"
                rows.append((key, shown, self.origins.get(key, "default")))
        return rows

    def describe_value(self, key: str) -> str:
        """Return one value as `webcrypt config` shows it (secrets masked)."""
        for row_key, shown, _origin in self.describe():
            if row_key == key:
                return shown
        raise KeyError(key)

    def warnings(self) -> list[str]:
        """Return what an operator should fix before production."""
        found = []
        if self.filter.internal_domains == ("localhost",):
            found.append(
                "filter.internal_domains is the demo default 'localhost': set your domains."
            )
        public = urlsplit(self.portal.public_url)
        if public.scheme == "http" and not _loopback(public.hostname or ""):
            found.append("portal.public_url is not https: credentials would travel in clear.")
        default_port = 443 if public.scheme == "https" else 80
        found += self._public_url_warnings(public.hostname or "", public.port or default_port)
        return found

    def _public_url_warnings(self, public_host: str, public_port: int) -> list[str]:
        """Return what makes the links in mails miss the portal."""
        listen_host, _, listen_port = self.portal.listen.rpartition(":")
        listen_host = listen_host.strip("[]")
        if self.origins.get("portal.public_url") == DERIVED:
            if _loopback(listen_host):
                return []
            return [
                f"portal.public_url is not set, so the links in mails point to "
                f"{self.portal.public_url}, which recipients cannot reach: set "
                "portal.public_url to the address they use (https://...)."
            ]
        if _loopback(public_host) and _loopback(listen_host) and public_port != int(listen_port):
            return [
                f"portal.public_url {self.portal.public_url} names port {public_port}, but the "
                f"portal listens on {self.portal.listen}: every link in mails would miss it. "
                "Set portal.public_url to the address recipients use, or leave it empty to "
                "derive it from portal.listen."
            ]
        if _loopback(public_host) and not _loopback(listen_host):
            return [
                f"portal.public_url {self.portal.public_url} is on this machine only, but the "
                f"portal listens on {self.portal.listen} for others: set portal.public_url to "
                "the address recipients use."
            ]
        return []


def _loopback(host: str) -> bool:
    """Tell whether `host` names this machine only (localhost or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_file(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> str | None:
    """Return the configuration file to read when none is named (`DEFAULT_FILES`), or None."""
    environ = os.environ if environ is None else environ
    if environ.get("WEBCRYPT_CONFIG"):
        return environ["WEBCRYPT_CONFIG"]
    for name in DEFAULT_FILES:
        candidate = (cwd or Path.cwd()) / name
        if candidate.is_file():
            return str(candidate if cwd else Path(name))
    return None


def derived_public_url(listen: str) -> str:
    """Return the portal's address when only its listen address is known."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    # Every interface: this machine at least reaches it there (nothing is bound here).
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def _mask(value: object) -> str:
    """Hide passwords inside URLs and whole values that are plain secrets."""
    text = str(value)
    if not text:
        return ""
    if "://" not in text and not text.startswith("outbox:"):
        return "****"
    parts = urlsplit(text)
    if parts.password:
        text = text.replace(f":{parts.password}@", ":****@")
    return re.sub(r"(password=)[^&]*", r"\1****", text)


def reference() -> str:
    """Return every configuration key as a Markdown reference (docs/configuration.md)."""
    lines = [
        "# Configuration reference",
        "",
        "Generated by `webcrypt config --reference`. Values come from the defaults below, the",
        "TOML file (`--config` or `WEBCRYPT_CONFIG`) and environment variables, later ones",
        "winning. `{data_dir}` stands for `general.data_dir`.",
    ]
    for section, options in SCHEMA.items():
        lines += ["", f"## [{section}]", ""]
        if section in SECTION_NOTES:
            lines += [*textwrap.wrap(SECTION_NOTES[section], 90), ""]
        lines += [
            "| key | default | allowed | meaning |",
            "|---|---|---|---|",
        ]
        for option in options:
            env = f"WEBCRYPT_{section.upper()}_{option.name.upper()}"
            default = _show(option.default) or "(empty)"
            lines.append(
                f"| `{option.name}`<br>`{env}` | `{default}` | {option.allowed} | {option.help} |"
            )
    return "\n".join(lines) + "\n"


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read the configuration file and environment, check every value, and return it."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("WEBCRYPT_CONFIG") or None
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
        source = str(path)
    _reject_unknown(raw, str(path))

    origins: dict[str, str] = {}
    values: dict[str, dict[str, Any]] = {}
    for section, options in SCHEMA.items():
        values[section] = {}
        for option in options:
            key = f"{section}.{option.name}"
            env_name = f"WEBCRYPT_{section.upper()}_{option.name.upper()}"
            value: Any = option.default
            if option.name in raw.get(section, {}):
                value, origins[key] = raw[section][option.name], source
            if env_name in environ:
                value, origins[key] = environ[env_name], env_name
            values[section][option.name] = _check(option, key, value)

    if not values["portal"]["public_url"]:
        values["portal"]["public_url"] = derived_public_url(values["portal"]["listen"])
        origins["portal.public_url"] = DERIVED
    data_dir = values["general"]["data_dir"]
    for section_values in values.values():
        for name, value in section_values.items():
            if isinstance(value, str) and "{data_dir}" in value:
                section_values[name] = value.replace("{data_dir}", data_dir)
    return Config(
        general=GeneralSection(**values["general"]),
        keystore=KeystoreSection(**values["keystore"]),
        filter=FilterSection(**values["filter"]),
        portal=PortalSection(**values["portal"]),
        limits=LimitsSection(**values["limits"]),
        housekeeping=HousekeepingSection(**values["housekeeping"]),
        mailbox=MailboxSection(**values["mailbox"]),
        sms=SmsSection(**values["sms"]),
        source=source,
        origins=origins,
    )


def _check(option: Option, key: str, value: Any) -> Any:
    try:
        return option.parse(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{key} = {value!r} is not allowed ({exc}): expected {option.allowed}. {option.help}"
        ) from None


def _reject_unknown(raw: Mapping[str, Any], path: str) -> None:
    for section, body in raw.items():
        if section not in SCHEMA or not isinstance(body, dict):
            known = ", ".join(f"[{name}]" for name in SCHEMA)
            raise ConfigError(f"{path}: unknown section [{section}]; known sections: {known}")
        names = {option.name for option in SCHEMA[section]}
        for key in body:
            if key not in names:
                raise ConfigError(
                    f"{path}: unknown key {section}.{key}; known keys: {', '.join(sorted(names))}"
                )
