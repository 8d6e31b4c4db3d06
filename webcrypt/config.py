"""One typed configuration schema: defaults, help and validation per option.

Values come from three places, later ones winning: the defaults below, the
TOML file (``--config`` or ``WEBCRYPT_CONFIG``), and environment variables
named ``WEBCRYPT_<SECTION>_<KEY>`` (lists comma-separated).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A configuration value is wrong; the message names the key and what is allowed."""


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Option:
    """One configuration key: its default, what it means and how to check it."""

    name: str
    default: Any
    help: str
    parse: Parser
    allowed: str
    secret: bool = False


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _integer(minimum: int, maximum: int | None = None) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("not a number")
        number = int(value)
        if number < minimum or (maximum is not None and number > maximum):
            raise ValueError("out of range")
        return number

    return parse


def _number(minimum: float) -> Parser:
    def parse(value: Any) -> float:
        number = float(value)
        if number < minimum:
            raise ValueError("out of range")
        return number

    return parse


def _choice(*choices: str) -> Parser:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError("not one of the choices")
        return str(value)

    return parse


def _domains(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("not a list")
    domains = tuple(str(item).strip().lower().rstrip(".") for item in items if str(item).strip())
    for domain in domains:
        if "@" in domain or " " in domain or ("." not in domain and domain != "localhost"):
            raise ValueError(f"{domain!r} is not a domain")
    return domains


def _host_port(value: Any, *, optional: bool = False) -> str:
    text = _text(value).strip()
    if optional and not text:
        return ""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("not host:port")
    return text


def _optional_host_port(value: Any) -> str:
    return _host_port(value, optional=True)


def _http_url(value: Any) -> str:
    text = _text(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("not an http(s) URL")
    return text


def _relay_url(value: Any, *, optional: bool = False) -> str:
    text = _text(value).strip()
    if optional and not text:
        return ""
    if text.startswith("outbox:") and len(text) > len("outbox:"):
        return text
    parts = urlsplit(text)
    if parts.scheme in {"smtp", "smtps", "lmtp"} and parts.hostname:
        return text
    raise ValueError("not a relay URL")


def _optional_relay_url(value: Any) -> str:
    return _relay_url(value, optional=True)


def _database_url(value: Any) -> str:
    text = _text(value).strip()
    if "://" not in text:
        raise ValueError("not a database URL")
    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("not a boolean")


RELAY_HELP = (
    "smtp://host:port (options ?starttls=1&user=…&password=…), smtps://host:port or outbox:DIR"
)

SCHEMA: dict[str, tuple[Option, ...]] = {
    "general": (
        Option(
            "data_dir",
            "var",
            "Folder for the embedded defaults: SQLite keystore, master key, outbox.",
            _text,
            "a folder path",
        ),
        Option(
            "log_level",
            "info",
            "How much to log.",
            _choice("debug", "info", "warning", "error"),
            "debug, info, warning or error",
        ),
    ),
    "keystore": (
        Option(
            "url",
            "sqlite:///{data_dir}/keystore.db",
            "SQLAlchemy URL of the keystore database (sqlite, postgresql+psycopg, mysql+pymysql).",
            _database_url,
            "a database URL such as postgresql+psycopg://user@host/db",
            secret=True,
        ),
        Option(
            "master_key_file",
            "{data_dir}/master.key",
            "File holding the master key (mode 0600); WEBCRYPT_KEYSTORE_MASTER_KEY (base64) wins.",
            _text,
            "a file path",
        ),
    ),
    "filter": (
        Option(
            "listen",
            "127.0.0.1:10025",
            "Where the content filter listens.",
            _host_port,
            "host:port",
        ),
        Option(
            "protocol",
            "smtp",
            "Protocol spoken to the mail server.",
            _choice("smtp", "lmtp"),
            "smtp or lmtp",
        ),
        Option(
            "relay",
            "outbox:{data_dir}/outbox",
            "Where filtered mail goes.",
            _relay_url,
            RELAY_HELP,
            secret=True,
        ),
        Option(
            "internal_domains",
            ("localhost",),
            "Domains of the company; only their senders are encrypted, their recipients never.",
            _domains,
            "a list of domains, comma-separated in the environment",
        ),
        Option(
            "relay_timeout",
            60.0,
            "Seconds to wait for the relay before answering 451.",
            _number(1.0),
            "a number of seconds >= 1",
        ),
        Option(
            "max_transactions",
            8,
            "Messages processed at once; each holds about 4x its size in memory.",
            _integer(1, 1000),
            "a whole number from 1 to 1000",
        ),
        Option(
            "idle_timeout",
            900,
            "Seconds a silent client may hold a connection (> 600 for Postfix).",
            _integer(601),
            "a whole number of seconds above 600",
        ),
        Option(
            "metrics_listen",
            "",
            "host:port for Prometheus /metrics of the filter; empty = off.",
            _optional_host_port,
            "host:port or empty",
        ),
    ),
    "portal": (
        Option(
            "listen",
            "127.0.0.1:8080",
            "Where the portal's web server listens.",
            _host_port,
            "host:port",
        ),
        Option(
            "public_url",
            "http://127.0.0.1:8080",
            "The portal's address as recipients see it.",
            _http_url,
            "an http(s) URL",
        ),
        Option(
            "relay",
            "",
            "Where replies and notices go; empty = the filter's relay.",
            _optional_relay_url,
            RELAY_HELP + " or empty",
            secret=True,
        ),
        Option(
            "secret_key_file",
            "{data_dir}/session.key",
            "File with the key that signs sessions; shared by every portal instance.",
            _text,
            "a file path",
        ),
        Option(
            "ratelimit_storage",
            "memory://",
            "Flask-Limiter storage: memory:// for one instance, redis://host:6379 for several.",
            _text,
            "memory:// or a redis:// URL",
            secret=True,
        ),
        Option(
            "threads",
            8,
            "Worker threads of the web server.",
            _integer(1, 256),
            "a whole number from 1 to 256",
        ),
        Option(
            "trusted_proxies",
            0,
            "Reverse proxies in front of the portal (for client addresses).",
            _integer(0, 5),
            "a whole number from 0 to 5",
        ),
        Option(
            "metrics_token",
            "",
            "Bearer token for /metrics; empty = only reachable from loopback.",
            _text,
            "a string",
            secret=True,
        ),
    ),
    "housekeeping": (
        Option(
            "mode",
            "off",
            "Run housekeeping inside `webcrypt serve` (internal) or from cron (off).",
            _choice("off", "internal"),
            "off or internal",
        ),
        Option(
            "interval",
            300,
            "Seconds between internal housekeeping runs.",
            _integer(30),
            "a whole number of seconds >= 30",
        ),
    ),
}


@dataclass(frozen=True)
class Section:
    """The values of one section, readable as attributes."""

    name: str
    values: Mapping[str, Any]

    def __getattr__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise AttributeError(f"[{self.name}] has no key {key!r}") from None


@dataclass(frozen=True)
class Config:
    """The effective configuration and where it came from."""

    sections: Mapping[str, Section]
    source: str = "built-in defaults"
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def general(self) -> Section:
        return self.sections["general"]

    @property
    def keystore(self) -> Section:
        return self.sections["keystore"]

    @property
    def filter(self) -> Section:
        return self.sections["filter"]

    @property
    def portal(self) -> Section:
        return self.sections["portal"]

    @property
    def housekeeping(self) -> Section:
        return self.sections["housekeeping"]

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
                value = self.sections[section].values[option.name]
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
        if (
            self.portal.public_url.startswith("http://")
            and "127.0.0.1" not in self.portal.public_url
        ):
            found.append("portal.public_url is not https: credentials would travel in clear.")
        return found


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def _mask(value: Any) -> str:
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

    data_dir = values["general"]["data_dir"]
    for section_values in values.values():
        for name, value in section_values.items():
            if isinstance(value, str) and "{data_dir}" in value:
                section_values[name] = value.replace("{data_dir}", data_dir)
    sections = {name: Section(name, vals) for name, vals in values.items()}
    return Config(sections=sections, source=source, origins=origins)


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
