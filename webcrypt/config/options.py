"""The configuration keys: default, help, allowed values and a parser for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_network
from typing import Any
from urllib.parse import urlsplit

from keystore.values import boolean, choice, domains, integer

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


def _number(minimum: float) -> Parser:
    def parse(value: Any) -> float:
        number = float(value)
        if number < minimum:
            raise ValueError("out of range")
        return number

    return parse


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


def _public_url(value: Any) -> str:
    text = _text(value).strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(
            "not an absolute http(s) URL; write it with the scheme, "
            "such as https://secure.bank.example"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("a plain address is needed: no query, fragment or user name")
    return text.rstrip("/")


def _sms_gateway(value: Any) -> str:
    text = _text(value).strip()
    if not text:
        return ""
    provider, _, address = text.partition(":")
    if provider != "webhook" or not address.startswith(("https://", "http://")):
        raise ValueError("not webhook: followed by an http(s) URL")
    return text


def _public_urls(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("not a list")
    return tuple(_public_url(item) for item in items if str(item).strip())


def _relay_url(value: Any, *, optional: bool = False) -> str:
    text = _text(value).strip()
    if optional and not text:
        return ""
    if text.startswith("outbox:") and len(text) > len("outbox:"):
        return text
    parts = urlsplit(text)
    # Exactly what webcrypt.smtp.relay.open_relay can open: anything else would pass here and
    # then defer every message when the relay is first used.
    if parts.scheme in {"smtp", "smtps"} and parts.hostname:
        return text
    raise ValueError("not a relay URL")


def _optional_relay_url(value: Any) -> str:
    return _relay_url(value, optional=True)


def _database_url(value: Any) -> str:
    text = _text(value).strip()
    if "://" not in text:
        raise ValueError("not a database URL")
    return text


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
            choice("debug", "info", "warning", "error"),
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
            choice("smtp", "lmtp"),
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
            "Domains of the company; only their senders are encrypted, their recipients never. "
            "The admin setting Internal domains replaces them when it lists any.",
            domains,
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
            "Messages processed at once (see also `memory_budget`).",
            integer(1, 1000),
            "a whole number from 1 to 1000",
        ),
        Option(
            "queue_lifetime_days",
            5,
            "Days the mail server keeps retrying a message (Postfix: maximal_queue_lifetime); "
            "what was relayed is remembered this long, so a retry never sends it twice.",
            integer(1, 365),
            "a whole number of days from 1 to 365",
        ),
        Option(
            "workers",
            0,
            "Filter processes of `webcrypt filter`, all on the one listen address; 0 = one per "
            "core. `webcrypt serve` always runs one.",
            integer(0, 256),
            "a whole number from 0 to 256",
        ),
        Option(
            "idle_timeout",
            900,
            "Seconds a silent client may hold a connection (> 600 for Postfix).",
            integer(601),
            "a whole number of seconds above 600",
        ),
        Option(
            "metrics_listen",
            "",
            "host:port for Prometheus /metrics of the filter; empty = off. With several "
            "workers, worker i serves it on port + i.",
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
            "",
            "The portal's address as recipients see it, used in every link the gateway mails; "
            "empty = http:// and `listen` (only right when recipients reach the portal there).",
            _public_url,
            "an absolute http(s) URL such as https://secure.bank.example, or empty",
        ),
        Option(
            "public_url_aliases",
            (),
            "Earlier public addresses of the portal (after a move to a new host name): a request "
            "to one of their hosts is redirected to public_url with path and query kept (301 for "
            "GET, 308 for POST, so a secure.htm or a link mailed before the move still opens).",
            _public_urls,
            "a list of http(s) URLs, comma-separated in the environment",
        ),
        Option(
            "delivery_choice",
            False,
            "Customers may choose in their portal profile how they get secure messages "
            "(attachment, mailbox or both); off: only the rules and the admin decide.",
            boolean,
            "true or false",
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
            integer(1, 256),
            "a whole number from 1 to 256",
        ),
        Option(
            "trusted_proxies",
            0,
            "Reverse proxies in front of the portal (for client addresses).",
            integer(0, 5),
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
    # Limits on the MIME structure of triggered mail (filter, at SMTP time) and of what the
    # portal opens; defaults that real mail stays far below. See webcrypt.mail.mimelimits.
    "limits": (
        Option(
            "max_depth",
            50,
            "Levels of multipart and message/* parts a part may be nested in.",
            integer(1, 1000),
            "a whole number from 1 to 1000",
        ),
        Option(
            "max_parts",
            1000,
            "MIME parts in one message (containers and attached messages included).",
            integer(1, 1000000),
            "a whole number from 1 to 1000000",
        ),
        Option(
            "max_header_bytes",
            256 * 1024,
            "Bytes in the header block of any one part (the message's own included).",
            integer(1024),
            "a whole number of bytes >= 1024",
        ),
        Option(
            "max_line_length",
            64 * 1024,
            "Bytes in one header field with its folded lines; body lines are not limited.",
            integer(998),
            "a whole number of bytes >= 998",
        ),
    ),
    "housekeeping": (
        Option(
            "mode",
            "off",
            "Run housekeeping inside `webcrypt serve` (internal) or from cron (off).",
            choice("off", "internal"),
            "off or internal",
        ),
        Option(
            "interval",
            300,
            "Seconds between internal housekeeping runs.",
            integer(30),
            "a whole number of seconds >= 30",
        ),
    ),
    "sms": (
        Option(
            "gateway",
            "",
            "Where PINs go by SMS when a PIN setting says sms: webhook:URL posts "
            '{"to": "+49...", "text": "..."} as JSON; empty = no SMS.',
            _sms_gateway,
            "webhook:https://... or empty",
        ),
        Option(
            "token",
            "",
            "Sent as Authorization: Bearer TOKEN to the SMS gateway; empty = none.",
            _text,
            "a text",
            secret=True,
        ),
        Option(
            "timeout",
            10.0,
            "Seconds to wait for the SMS gateway.",
            _number(1),
            "a number of seconds >= 1",
        ),
    ),
}


def _networks(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("not a list")
    networks = []
    for item in (str(item).strip() for item in items):
        if not item:
            continue
        try:
            networks.append(str(ip_network(item)))
        except ValueError as exc:  # host bits set, or not an address at all
            raise ValueError(f"{item!r}: {exc}") from None
    return tuple(networks)


# Who may make the filter seal and create accounts, and how fast.
SCHEMA["filter"] = (
    *SCHEMA["filter"],
    Option(
        "trusted_networks",
        ("127.0.0.0/8", "::1/128"),
        "Clients whose mail the filter seals (the MTA); others get 550 for mail it would seal.",
        _networks,
        "a list of networks such as 10.1.0.0/16, comma-separated in the environment",
    ),
    Option(
        "new_recipients_per_hour",
        20,
        "New recipient accounts one sender may create per hour; 0 = no limit.",
        integer(0, 1_000_000),
        "a whole number >= 0",
    ),
)


# How much memory the messages in flight may take together, and the argon2 hashes.
SCHEMA["filter"] = (
    *SCHEMA["filter"],
    Option(
        "memory_budget",
        0,
        "Bytes all messages in flight may hold together, each counted at 2.5x its size plus "
        "4 MiB; a message that does not fit waits briefly, then gets 452 (try later). 0 = "
        "`max_transactions` x 29 MiB (a 10 MiB message). At least 2.5x the "
        "`max_message_size` setting plus 4 MiB.",
        integer(0),
        "a whole number of bytes, 0 for the default",
    ),
)
SCHEMA["keystore"] = (
    *SCHEMA["keystore"],
    Option(
        "concurrent_hashes",
        2,
        "Password and PIN hashes (argon2, 64 MiB each) one process computes at once; "
        "more wait their turn.",
        integer(1, 64),
        "a whole number from 1 to 64",
    ),
)
# The secure mailbox: how sealed messages reach recipients (see webcrypt.sealing.methods).
SCHEMA["mailbox"] = (
    Option(
        "default_method",
        "attachment",
        "How recipients get sealed messages unless a rule says otherwise: attachment "
        "(secure.htm), mailbox (stored on the portal, notification with a link) or both.",
        choice("attachment", "mailbox", "both"),
        "attachment, mailbox or both",
    ),
    Option(
        "when_full",
        "refuse",
        "A message that does not fit the recipient's mailbox: refuse it (552 with the reason) "
        "or send it as attachment instead (the adviser gets a notice).",
        choice("refuse", "attachment"),
        "refuse or attachment",
    ),
    Option(
        "notification_subject",
        False,
        "Put the message's subject into the notification mail (off: the notification names "
        "only the sender and the portal).",
        boolean,
        "true or false",
    ),
)


SECTION_NOTES: dict[str, str] = {
    "filter": (
        "The company's internal domains are set in two places that do not combine: the admin "
        "setting Internal domains (Settings page of the admin area), when it lists any "
        "domain, replaces `internal_domains` below for the filter, the portal and "
        "housekeeping; emptying the setting brings the configured ones back. The Settings "
        "page shows the domains in force and where they come from. The first of them is the "
        "domain notices come from when no adviser is on record."
    ),
    "mailbox": (
        "The method per recipient is decided by the most specific rule: the adviser's header "
        "`X-WebCrypt-Delivery: attachment|mailbox|both` on one message (removed before "
        "sealing), the recipient's own choice (portal profile or admin user page), the admin "
        "settings Domains that get the secure mailbox / attachment and mailbox, and last "
        "`default_method`. Quota, expiry and notices are admin settings; see docs/mailbox.md."
    ),
    "sms": (
        "An SMS gateway for one-time PINs, used when the admin setting for the first-contact or "
        "the reset PIN is sms. The customer's mobile number comes from the adviser (the header "
        "X-WebCrypt-Phone on a secure message to one customer, removed before sealing) and is "
        "kept with the account. Without a number, or when the gateway refuses, the PIN goes to the "
        "adviser instead. Other providers are added in webcrypt/sealing/sms.py (PROVIDERS)."
    ),
    "limits": (
        "Limits on the MIME structure of a message, checked by one linear scan of its bytes "
        "(no parser, no recursion). The filter checks triggered mail before sealing it and "
        "refuses a message over a limit at SMTP time with `552 5.3.4` and a reason that names "
        "the limit; mail without a trigger is never checked. The portal checks an uploaded "
        "file and a decrypted message before parsing it and shows a page that says which "
        "limit was exceeded. Real mail stays far below the defaults (a few levels, a few "
        "dozen parts, header blocks of some kilobytes). Body lines are not limited: real "
        "mail has single-line bodies of a megabyte and more; the message size is limited by "
        "the `max_message_size` setting."
    ),
}
"""A paragraph under a section's heading in the configuration reference."""
