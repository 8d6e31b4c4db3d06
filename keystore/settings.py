"""Admin settings: typed, validated, stored one row per field with defaults applied."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keystore.addresses import normalize_address
from keystore.audit import AuditService
from keystore.clock import Clock, utcnow
from keystore.errors import InvalidValue, SettingsError
from keystore.languages import LANGUAGES
from keystore.models import SettingValue
from keystore.values import boolean, choice, domains, integer

MAX_LOGO_BYTES = 200 * 1024
LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_WORD = re.compile(r"^[\w\-]{1,64}$")
PIN_CHANNELS = ("adviser", "recipient", "helpdesk", "sms")
"""Who may get a one-time PIN by mail (see `webcrypt.sealing.pins`)."""


@dataclass(frozen=True)
class Settings:
    """Every admin setting, with defaults for those never changed."""

    trigger_word: str = "WebCrypt"
    internal_domains: tuple[str, ...] = ()
    attachment_domains: tuple[str, ...] = ()
    mailbox_domains: tuple[str, ...] = ()
    both_domains: tuple[str, ...] = ()
    max_message_size: int = 10 * 1024 * 1024
    mailbox_quota: int = 100 * 1024 * 1024
    message_expiry_days: int = 30
    expiry_notice_days: int = 3
    expiry_notice_mode: str = "all"
    unread_notice_days: int = 10
    inactivity_days: int = 395
    inactivity_notice_days: int = 30
    key_rotation_days: int = 30
    ledger_retention_days: int = 400
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    admin_idle_minutes: int = 15
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    pin_valid_days: int = 14
    reset_link_minutes: int = 20
    reset_answer_attempts: int = 3
    first_contact_pin: str = "adviser"
    reset_pin: str = "recipient"
    pin_helpdesk: str = ""
    default_language: str = "en"
    read_receipts: bool = False
    thread_trigger: bool = True
    withdraw_link: bool = False
    product_name: str = "WebCrypt"
    brand_color: str = "#1f4e79"
    logo_png: bytes = field(default=b"", repr=False)
    logo_mime: str = ""
    footer_en: str = ""
    footer_de: str = ""
    contact_en: str = ""
    contact_de: str = ""

    def footer(self, lang: str) -> str:
        """Return the footer text for `lang` ("de" or anything else for English)."""
        return self.footer_de if lang == "de" else self.footer_en

    def contact(self, lang: str) -> str:
        """Return the contact text for `lang` ("de" or anything else for English)."""
        return self.contact_de if lang == "de" else self.contact_en


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
DEFAULTS = Settings()


def _text(low: int, high: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise InvalidValue("must be text")
        value = value.strip()
        if low == 0 and len(value) > high:
            raise InvalidValue("must not be longer than %(high)d characters", high=high)
        if not low <= len(value) <= high:
            raise InvalidValue("must be %(low)d to %(high)d characters long", low=low, high=high)
        return value

    return check


def _word(value: object) -> str:
    if not isinstance(value, str) or not _WORD.match(value.strip()):
        raise InvalidValue("must be one word of letters, digits, - or _ (at most 64 characters)")
    return value.strip()


def _optional_address(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue("must be text")
    if not value.strip():
        return ""
    try:
        return normalize_address(value)
    except ValueError:
        raise InvalidValue("must be one mail address such as helpdesk@bank.example") from None


def _color(value: object) -> str:
    if not isinstance(value, str) or not _COLOR.match(value.strip()):
        raise InvalidValue("must be a colour like #1f4e79")
    return value.strip().lower()


def _logo(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise InvalidValue("must be image data")
    if len(value) > MAX_LOGO_BYTES:
        raise InvalidValue("must be at most %(kb)d KB", kb=MAX_LOGO_BYTES // 1024)
    if value and not any(bytes(value).startswith(magic) for magic in LOGO_TYPES.values()):
        raise InvalidValue("must be a PNG or JPEG image")
    return bytes(value)


VALIDATORS: dict[str, Callable[[object], Any]] = {
    "trigger_word": _word,
    "internal_domains": domains,
    "attachment_domains": domains,
    "mailbox_domains": domains,
    "both_domains": domains,
    "max_message_size": integer(1024, 200 * 1024 * 1024),
    "mailbox_quota": integer(1024 * 1024, 100 * 1024 * 1024 * 1024),
    "message_expiry_days": integer(1, 3650),
    "expiry_notice_days": integer(0, 365),
    "expiry_notice_mode": choice("all", "unread", "never"),
    "unread_notice_days": integer(0, 365),
    "inactivity_days": integer(30, 3650),
    "inactivity_notice_days": integer(0, 365),
    "key_rotation_days": integer(1, 3650),
    "ledger_retention_days": integer(1, 3650),
    "session_idle_minutes": integer(1, 1440),
    "session_max_hours": integer(1, 168),
    "admin_idle_minutes": integer(1, 1440),
    "lockout_threshold": integer(1, 100),
    "lockout_minutes": integer(1, 10080),
    "pin_valid_days": integer(1, 365),
    "reset_link_minutes": integer(5, 120),
    "reset_answer_attempts": integer(1, 10),
    "first_contact_pin": choice(*PIN_CHANNELS),
    "reset_pin": choice(*PIN_CHANNELS),
    "pin_helpdesk": _optional_address,
    "default_language": choice(*LANGUAGES),
    "read_receipts": boolean,
    "thread_trigger": boolean,
    "withdraw_link": boolean,
    "product_name": _text(1, 64),
    "brand_color": _color,
    "logo_png": _logo,
    "logo_mime": choice("", *LOGO_TYPES),
    "footer_en": _text(0, 2000),
    "footer_de": _text(0, 2000),
    "contact_en": _text(0, 2000),
    "contact_de": _text(0, 2000),
}
assert set(VALIDATORS) == set(FIELDS)


def _cross_check(settings: Settings) -> dict[str, InvalidValue]:
    """Check rules that involve more than one field."""
    errors: dict[str, InvalidValue] = {}
    for name, other in (
        ("expiry_notice_days", "message_expiry_days"),
        ("inactivity_notice_days", "inactivity_days"),
    ):
        if getattr(settings, name) >= getattr(settings, other):
            errors[name] = InvalidValue("must be less than %(other)s", other=other)
    both = set(settings.mailbox_domains) & set(settings.both_domains)
    if both:
        errors["both_domains"] = InvalidValue(
            "lists domains that %(other)s lists: %(domains)s",
            other="mailbox_domains",
            domains=", ".join(sorted(both)),
        )
    for name, other in (
        ("mailbox_quota", "max_message_size"),
        ("ledger_retention_days", "message_expiry_days"),
    ):
        if getattr(settings, name) < getattr(settings, other):
            errors[name] = InvalidValue("must be at least %(other)s", other=other)
    for name in ("first_contact_pin", "reset_pin"):
        if getattr(settings, name) == "helpdesk" and not settings.pin_helpdesk:
            errors["pin_helpdesk"] = InvalidValue(
                "must be set while %(other)s goes to the helpdesk", other=name
            )
    if bool(settings.logo_png) != bool(settings.logo_mime):
        errors["logo_mime"] = InvalidValue("must be set together with %(other)s", other="logo_png")
    elif settings.logo_png and not settings.logo_png.startswith(LOGO_TYPES[settings.logo_mime]):
        errors["logo_mime"] = InvalidValue("does not match the image data")
    return errors


def _encode(name: str, value: Any) -> str:
    if name == "logo_png":
        return json.dumps(base64.b64encode(value).decode("ascii"))
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _decode(name: str, text: str) -> Any:
    value = json.loads(text)
    if name == "logo_png":
        return base64.b64decode(value)
    return tuple(value) if isinstance(DEFAULTS.__dict__[name], tuple) else value


def _apply(current: Settings, changes: Mapping[str, object]) -> Settings:
    """Return `current` with `changes` validated and applied, or raise SettingsError."""
    errors: dict[str, InvalidValue] = {}
    values: dict[str, Any] = {}
    for name, raw in changes.items():
        if name not in VALIDATORS:
            errors[name] = InvalidValue("unknown setting")
            continue
        try:
            values[name] = VALIDATORS[name](raw)
        except ValueError as exc:
            errors[name] = exc if isinstance(exc, InvalidValue) else InvalidValue(str(exc))
    if errors:
        raise SettingsError(errors)
    result = dataclasses.replace(current, **values)
    errors = _cross_check(result)
    if errors:
        raise SettingsError(errors)
    return result


class SettingsService:
    """Reads and changes the admin settings."""

    def __init__(self, session: Session, *, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock

    def get(self) -> Settings:
        """Return the current settings; stored values that no longer validate fall back."""
        values: dict[str, Any] = {}
        for row in self.session.scalars(select(SettingValue)):
            if row.name in FIELDS:
                try:
                    values[row.name] = VALIDATORS[row.name](_decode(row.name, row.value))
                except (ValueError, TypeError):
                    continue
        return dataclasses.replace(DEFAULTS, **values)

    def validate(self, changes: Mapping[str, object]) -> Settings:
        """Return the settings that `changes` would give, or raise SettingsError."""
        return _apply(self.get(), changes)

    def update(self, changes: Mapping[str, object], *, actor: str, ip: str = "") -> Settings:
        """Validate and store `changes`; every field is checked before anything is written."""
        current = self.get()
        result = _apply(current, changes)
        now = self.clock()
        changed = [n for n in changes if getattr(result, n) != getattr(current, n)]
        for name in changed:
            row = self.session.get(SettingValue, name)
            encoded = _encode(name, getattr(result, name))
            if row is None:
                self.session.add(
                    SettingValue(name=name, value=encoded, updated_at=now, updated_by=actor)
                )
            else:
                row.value, row.updated_at, row.updated_by = encoded, now, actor
        if changed:
            self.session.flush()
            AuditService(self.session, clock=self.clock).record(
                "settings.update",
                actor=actor,
                ip=ip,
                detail="changed: " + ", ".join(sorted(changed)),
            )
        return result
