"""Decide per recipient and produce the mails that leave the filter.

`Sealer.plan` (keystore calls, then CPU work; no other I/O) turns one incoming message into
a `Plan`: the outgoing mails (carriers, one plaintext copy for internal recipients, PIN mails,
deactivated notices), the decision per envelope recipient, and which outgoing mails each
recipient depends on. The ledger entries are recorded while planning, before anything is
relayed; `Sealer.commit` records the PIN mails once the relay took everything. Accounts
already known to this process come from `webcrypt.sealing.keycache` (see there for what that may
delay and what it never does).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from keystore.addresses import normalize_address
from keystore.db import Session
from keystore.errors import DatabaseError, DuplicateRecord, KeystoreUnavailable
from keystore.ledger import record_sealed_if_current
from keystore.mailbox import MailboxFull, new_entry_id
from keystore.models import Recipient
from keystore.settings import Settings
from webcrypt import envelope, metrics
from webcrypt.errors import ContentError
from webcrypt.mail import mimelimits
from webcrypt.mail.compose import Chunks, Outgoing, ascii_domain, encode_header
from webcrypt.mail.headertext import message_charset
from webcrypt.mail.message import (
    HEADER_LINE,
    MailMessage,
    decode_text,
    domain_of,
    has_secure_suffix,
    strip_secure,
    without_surrogates,
)
from webcrypt.mail.mimelimits import MimeLimits
from webcrypt.notices import deactivated_notice, first_pin_notice, mailbox_full_notice
from webcrypt.sealing.carrier import Adviser, Cover, carrier_for
from webcrypt.sealing.keycache import Account, AccountCache
from webcrypt.sealing.methods import ATTACHMENT, BOTH, HEADER, Method, delivery_method, requested
from webcrypt.sealing.notification import inbox_url, notification_mail
from webcrypt.sealing.pins import ADVISER, FIRST_CONTACT, PinDestination, pin_destination
from webcrypt.sealing.sms import (
    PHONE_AUDIT,
    PHONE_HEADER,
    SmsError,
    masked_phone,
    normalize_phone,
    pin_sms_text,
)
from webcrypt.sealing.summary import Summary, describe, seal_summary
from webcrypt.smtp.admission import Refusal, adviser_of, over_cap
from webcrypt.smtp.rules import internal_sender as internal_sender_rule
from webcrypt.smtp.rules.registry import matching_triggers
from webcrypt.smtp.rules.rulecontext import Context
from webcrypt.smtp.rules.subject_trigger import remove_trigger

log = logging.getLogger(__name__)

PIN_NOTICE = "pin"
THREAD_TRIGGER = "thread-trigger"
THREAD_AUDIT = "filter.thread_sealed"
"""The audit action of a message that the thread rule alone sealed."""
PIN_LEASE = timedelta(minutes=15)
"""How long a delivery may hold an account's PIN lease before another may re-issue the PIN."""

_SECURE_IN_HEADER = re.compile(rb"#secure(?=[\s>,;\"]|$)", re.IGNORECASE)
_LINE_END = re.compile(rb"\r\n|\r|\n")
_DELIVERY_HEADER = HEADER.lower().encode("ascii")


def secure_to_internal_reason(address: str) -> str:
    """Why ``#secure`` on an internal address is refused."""
    return (
        f"{strip_secure(address).strip('<>')} is an internal address: internal mail is never "
        "encrypted, remove #secure and send again"
    )


@dataclass
class Plan:
    """What to do with one message."""

    message_id: str
    triggers: list[str]
    outgoing: list[Outgoing] = field(default_factory=list)
    decisions: dict[str, str] = field(default_factory=dict)
    depends: dict[str, list[int]] = field(default_factory=dict)
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Recipients refused for good: address -> (cause, reason for the sender)."""
    sealed: list[tuple[str, int, int]] = field(default_factory=list)
    pins: list[int] = field(default_factory=list)
    created: datetime | None = None
    expires: datetime | None = None
    sender: str = ""
    rcpt_count: int = 0
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    pin_leases: list[str] = field(default_factory=list)
    phone: str = ""
    """The customer's mobile number from the adviser's X-WebCrypt-Phone (one recipient only)."""

    @property
    def needs_commit(self) -> bool:
        """Tell whether `Sealer.commit` has something to record once the mails went out."""
        return bool(self.pin_leases) or self.triggers == [THREAD_TRIGGER]

    def add(self, mail: Outgoing, recipients: Sequence[str]) -> None:
        """Add an outgoing mail that the given envelope recipients depend on."""
        self.outgoing.append(mail)
        for rcpt in recipients:
            self.depends.setdefault(rcpt, []).append(len(self.outgoing) - 1)


_PHONE_FIELD = PHONE_HEADER.lower().encode("ascii")

_PASSED_ON = (Refusal, ContentError, KeystoreUnavailable, DatabaseError, OSError, MemoryError)
"""What a failed plan raises as it is; anything else is a content error."""


def rewritten_header(message: MailMessage, *, trigger_word: str, message_id: str | None) -> bytes:
    """The header block with the trigger removed from Subject and ``#secure`` from To/Cc;
    the body follows it unchanged (never joined to it here).

    The adviser's ``X-WebCrypt-Delivery`` and ``X-WebCrypt-Phone`` fields are left out.

    Every other byte stays as it came: a Subject field is rewritten only when it holds the
    trigger (then encoded and folded afresh, with the line end it had), To and Cc only lose
    the suffix, and a missing Message-ID is added at the end of the header block with the
    block's own line end.
    """
    block = message.header_block
    out = []
    for raw_field in _raw_fields(block):
        name = raw_field.split(b":", 1)[0].lower()
        if name == b"subject":
            raw_field = _without_trigger(raw_field, trigger_word, message.raw)
        elif name in (b"to", b"cc"):
            raw_field = _SECURE_IN_HEADER.sub(b"", raw_field)
        elif name == _DELIVERY_HEADER:
            continue  # the adviser's choice of method is for the filter only
        elif name == _PHONE_FIELD:
            continue  # for the gateway only: never sealed, never passed on
        out.append(raw_field)
    if message_id:
        line_end = _line_end(block)
        if block and not block.endswith((b"\r", b"\n")):
            out.append(line_end)  # a header block that ends the message without a line end
        out.append(b"Message-ID: <" + message_id.encode("ascii") + b">" + line_end)
    return b"".join(out)


def _raw_fields(block: bytes) -> list[bytes]:
    """The header block cut into fields, each with its continuation lines and line ends."""
    fields: list[bytes] = []
    for match in HEADER_LINE.finditer(block):
        line = match.group()
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _line_end(raw: bytes) -> bytes:
    """The line end of the first line that has one (CRLF when none has)."""
    match = _LINE_END.search(raw)
    return match.group() if match else b"\r\n"


def _without_trigger(raw_field: bytes, trigger_word: str, raw: bytes) -> bytes:
    """The Subject field without the trigger; the field as it came when it has none.

    Raw 8-bit bytes in it are read in the message's own charset when they are not UTF-8.
    """
    text = raw_field.decode("utf-8", "surrogateescape")
    name, _, value = text.partition(":")
    fallback = None if raw_field.isascii() else message_charset(raw)
    subject = without_surrogates(decode_text(value.strip(" \t\r\n"), fallback_charset=fallback))
    cleaned = remove_trigger(subject, trigger_word)
    if cleaned == " ".join(subject.split()):
        return raw_field
    encoded = encode_header(cleaned, name.strip())
    line_end = _LINE_END.search(raw_field)
    ending = line_end.group() if line_end else b""
    return f"{name}: {encoded}".encode("ascii").replace(b"\r\n", ending or b"\r\n") + ending


class Sealer:
    """Turns incoming messages into plans, with the keystore and settings of a runtime."""

    def __init__(self, runtime: Any, *, account_cache: AccountCache | None = None) -> None:
        self.runtime = runtime
        self.account_cache = account_cache if account_cache is not None else AccountCache()

    @property
    def portal_url(self) -> str:
        """Public URL of the portal, written into every envelope and carrier."""
        return str(self.runtime.config.portal.public_url).rstrip("/")

    def context(self, mail_from: str, rcpt_tos: Sequence[str], *, trusted: bool = True) -> Context:
        """Build the rule context from the current settings."""
        settings = self.runtime.settings()
        return Context(
            mail_from=mail_from,
            rcpt_tos=tuple(rcpt_tos),
            trigger_word=settings.trigger_word,
            internal_domains=frozenset(self.runtime.internal_domains().domains),
            trusted_client=trusted,
            thread_trigger=settings.thread_trigger,
            portal_senders=self._portal_senders,
        )

    def _portal_senders(self, message_ids: Sequence[str]) -> set[str]:
        """Return who sent any of `message_ids` from the portal (for the thread rule)."""
        keystore = self.runtime.keystore
        with keystore.session() as session:
            found: set[str] = keystore.ledger(session).portal_senders(message_ids)
        return found

    def is_internal(self, address: str) -> bool:
        """Tell whether an address (with or without ``#secure``) is in an internal domain."""
        return self.context("", ()).is_internal(address)

    @functools.cached_property
    def limits(self) -> MimeLimits:
        """The MIME limits triggered mail is checked against (the ``[limits]`` section)."""
        return MimeLimits.from_config(self.runtime.config)

    def plan(self, raw: bytes, mail_from: str, rcpt_tos: Sequence[str], *, trusted: bool) -> Plan:
        """Decide per recipient and build every outgoing mail.

        `trusted` says whether the SMTP client may have mail sealed. Raises
        `webcrypt.smtp.admission.Refusal` when the whole message is refused, and `ContentError`
        when a triggered message cannot be encrypted because of what it contains (a retry
        cannot help); `KeystoreUnavailable` and database errors pass. Mail without a trigger
        is never refused for its content.
        """
        message = MailMessage(raw)
        context = self.context(mail_from, rcpt_tos, trusted=trusted)
        try:
            triggers = matching_triggers(message, context)
            triggered = bool(triggers) and internal_sender_rule.check(message, context)
        except (KeystoreUnavailable, DatabaseError):
            raise  # the thread rule could not ask: 4xx, as the answer might have to be sealed
        except Exception as exc:
            # The rules are written never to raise on content; should one still do, mail
            # that cannot hold a trigger is passed on, anything else is refused.
            if _may_be_triggered(message, context):
                raise ContentError.from_exception(exc) from exc
            log.exception("reading the message failed; it has no trigger: passed on")
            triggers, triggered = [], False
        plan = Plan(
            message_id=message.message_id,
            triggers=triggers,
            sender=mail_from,
            rcpt_count=len(rcpt_tos),
        )
        if not triggered:
            # Not for us: relay unchanged (envelope addresses without any #secure suffix),
            # byte for byte, line ends included (see docs/fidelity.md).
            plain = [strip_secure(r) for r in rcpt_tos]
            plan.add(Outgoing(raw, mail_from, tuple(plain), "plain", crlf_only=True), rcpt_tos)
            plan.decisions = dict.fromkeys(rcpt_tos, "pass")
            return plan
        try:
            self._plan_triggered(plan, raw, message, context)
        except Exception as exc:
            # Nothing of this plan goes out: the retry must be free to mail the first PIN.
            self._release_pin_leases(plan)
            if isinstance(exc, _PASSED_ON):
                raise
            # Anything else comes from the content: a retry fails too.
            raise ContentError.from_exception(exc) from exc
        return plan

    def _release_pin_leases(self, plan: Plan) -> None:
        """Free the PIN leases of a plan that failed (best effort: they expire anyway)."""
        if not plan.pin_leases:
            return
        keystore = self.runtime.keystore
        try:
            with keystore.session() as session:
                leases = keystore.leases(session)
                for lease in plan.pin_leases:
                    leases.release(lease, plan.holder)
        except (KeystoreUnavailable, DatabaseError) as exc:
            log.warning("PIN leases of a failed delivery stay until they expire: %s", exc)
        plan.pin_leases.clear()

    def _plan_triggered(
        self, plan: Plan, raw: bytes, message: MailMessage, context: Context
    ) -> None:
        """Plan a triggered message: carriers for external recipients, one internal copy."""
        mail_from, rcpt_tos = context.mail_from, context.rcpt_tos
        internal: list[str] = []
        external: list[str] = []
        for rcpt in rcpt_tos:  # one domain check (IDNA for external ones) per recipient
            (internal if context.is_internal(rcpt) else external).append(rcpt)
        for rcpt in internal:
            if has_secure_suffix(rcpt):
                plan.refused[rcpt] = ("internal-secure", secure_to_internal_reason(rcpt))
                plan.decisions[rcpt] = "refused"
        internal = [r for r in internal if r not in plan.refused]

        new_id = None if plan.message_id else make_msgid(domain=ascii_domain(domain_of(mail_from)))
        if new_id:
            plan.message_id = new_id.strip("<>")
        elif not _usable_id(plan.message_id):
            # The ledger keeps ids up to 255 ASCII characters; derive one from odd ids.
            digest = hashlib.sha256(plan.message_id.encode("utf-8", "surrogateescape"))
            plan.message_id = f"{digest.hexdigest()[:40]}@{_ascii(domain_of(mail_from))}"
        if external:
            # Before the expensive work (keystore, sealing): one linear scan of the bytes.
            mimelimits.check(raw, self.limits)
        header = rewritten_header(
            message,
            trigger_word=context.trigger_word,
            message_id=plan.message_id if new_id else None,
        )
        inner = Chunks([header, message.body_view])  # the body is not copied
        if external:
            self._seal(plan, message, context, inner, MailMessage(header), external)
        if internal:
            # Relayed after the carriers: a carrier that cannot be built or relayed stops the
            # transaction before the internal copy went out, so a retry duplicates less.
            # Relayed as it is: the line ends it came with stay (see docs/fidelity.md).
            copy = Outgoing(inner, mail_from, tuple(internal), "plain", crlf_only=True)
            plan.add(copy, internal)
            plan.decisions.update(dict.fromkeys(internal, "plain"))

    def _seal(
        self,
        plan: Plan,
        message: MailMessage,
        context: Context,
        inner: Chunks,
        inner_header: MailMessage,
        external: list[str],
    ) -> None:
        # The plan's context already holds the domains and trigger word: one settings snapshot
        # for the whole message, and no second context per sealed message.
        settings = self.runtime.settings()
        mail_from = context.mail_from
        adviser = adviser_of(message, context)
        subject = remove_trigger(message.subject, context.trigger_word)
        now = self.runtime.clock()
        plan.created = now
        plan.expires = now + timedelta(days=settings.message_expiry_days)
        plan.sender = adviser.address

        plan.phone = _phone_of(message) if len(external) == 1 else ""
        addresses: dict[str, str] = {}  # envelope recipient -> normalized address
        for rcpt in external:
            try:
                addresses[rcpt] = normalize_address(rcpt)
            except ValueError:
                plan.refused[rcpt] = (
                    "address",
                    f"Cannot encrypt for {_ascii(strip_secure(rcpt))}: not an address the "
                    "gateway can make an account for",
                )
                plan.decisions[rcpt] = "refused"
        external = [rcpt for rcpt in external if rcpt in addresses]
        # One spelling per adviser: the cap on new recipients counts accounts by creator.
        accounts = self._accounts(plan, adviser.address.lower(), addresses)
        keys = {
            rcpt: account.key for rcpt, (account, _) in accounts.items() if account.key is not None
        }

        sealed = None
        if keys:
            sealed = envelope.seal(
                inner,
                list({k.address: k for k in keys.values()}.values()),
                sender=adviser.address,
                message_id=plan.message_id,
                portal_url=self.portal_url,
                expires=plan.expires,
                now=now,
            )
        thread = [(n, message.get(n)) for n in ("In-Reply-To", "References") if message.get(n)]
        methods = self._methods(message, settings, accounts, keys)
        summary = functools.partial(describe, inner_header, message, size=len(inner), now=now)
        stored = self._store(plan, summary, sealed, keys, accounts, methods, adviser.address)
        for rcpt in external:
            account, pin = accounts[rcpt]
            shown = strip_secure(rcpt).strip("<>")
            if rcpt not in keys:
                plan.decisions[rcpt] = "deactivated"
                notice = deactivated_notice(
                    adviser=adviser.address,
                    recipient=shown,
                    subject=subject,
                    others=plan.rcpt_count > 1,
                    settings=settings,
                    lang=settings.default_language,
                    now=now,
                )
                plan.add(notice, [rcpt])
                continue
            assert sealed is not None
            key = keys[rcpt]
            method = methods[rcpt]
            entry = stored.get(rcpt)
            if isinstance(entry, MailboxFull):
                fallback = self._mailbox_full(plan, rcpt, method, entry, adviser, shown, subject)
                if fallback is None:
                    continue
                method, entry = fallback, None
            cover = Cover(
                adviser=adviser,
                to=shown,
                subject=subject,
                settings=settings,
                portal_url=self.portal_url,
                recipient_lang=account.language,
                thread=thread,
            )
            if method.attaches:
                mail: Any = functools.partial(
                    carrier_for,
                    cover,
                    sealed,
                    address=key.address,
                    neutral=method.neutral,
                    inbox_link=inbox_url(self.portal_url, entry) if entry else "",
                    by_thread=plan.triggers == [THREAD_TRIGGER],
                )
                kind = "carrier"
            else:
                assert entry is not None
                mail = functools.partial(
                    notification_mail,
                    cover,
                    entry_id=entry,
                    expires=plan.expires,
                    show_subject=bool(self.runtime.config.mailbox.notification_subject),
                )
                kind = "notification"
            plan.add(Outgoing(mail, mail_from, (shown,), kind, crlf_only=True), [rcpt])
            plan.sealed.append((rcpt, account.recipient_id, key.key_version))
            plan.decisions[rcpt] = "sealed"
            if pin:
                to = self._pin_by_sms(
                    pin_destination(
                        FIRST_CONTACT,
                        settings=settings,
                        recipient=key.address,
                        adviser=adviser.address,
                        phone=plan.phone,
                        sms=self.runtime.config.sms.gateway != "",
                    ),
                    pin=pin,
                    adviser=adviser.address,
                    settings=settings,
                )
                plan.pins.append(account.recipient_id)
                plan.decisions[rcpt] = "sealed+pin"
                if to is None:
                    continue  # the SMS went out
                mail = first_pin_notice(
                    to,
                    recipient=key.address,
                    adviser=adviser.address,
                    pin=pin,
                    portal_url=self.portal_url,
                    settings=settings,
                    now=now,
                )
                plan.add(mail, [rcpt])

    def _pin_by_sms(
        self, to: PinDestination, *, pin: str, adviser: str, settings: Settings
    ) -> PinDestination | None:
        """Send the PIN by SMS when `to` says so (None: sent); else, or when it fails, the
        destination of the PIN mail (the adviser when the SMS was refused).

        Sent before the carrier is relayed: should relaying fail, the MTA's retry brings a
        new PIN (`_pin`), and the customer gets a second SMS whose PIN is the valid one.
        """
        if not to.by_sms:
            return to
        gateway = self.runtime.sms_gateway()
        text = pin_sms_text(
            pin,
            product_name=settings.product_name,
            portal_url=self.portal_url,
            lang=settings.default_language,
        )
        try:
            if gateway is None:
                raise SmsError("no SMS gateway is configured")
            gateway.send(to.address, text)
        except SmsError as exc:
            log.warning("PIN SMS not sent (%s): the PIN goes to the adviser", exc)
            return PinDestination(adviser, ADVISER)
        return None

    def _methods(
        self,
        message: MailMessage,
        settings: Any,
        accounts: dict[str, tuple[Account, str | None]],
        keys: dict[str, envelope.RecipientKey],
    ) -> dict[str, Method]:
        """Decide the delivery method of each recipient that has a key."""
        header = requested(message.get(HEADER))
        default = str(self.runtime.config.mailbox.default_method)
        return {
            rcpt: delivery_method(
                domain=domain_of(rcpt),
                settings=settings,
                default=default,
                account_choice=accounts[rcpt][0].delivery_method,
                header=header,
            )
            for rcpt in keys
        }

    def _store(
        self,
        plan: Plan,
        summary: Callable[[], Summary],
        sealed: envelope.SealedMessage | None,
        keys: dict[str, envelope.RecipientKey],
        accounts: dict[str, tuple[Account, str | None]],
        methods: dict[str, Method],
        sender: str,
    ) -> dict[str, str | MailboxFull]:
        """Store the envelope in the mailbox of each recipient whose method asks for it.

        Part of the delivery, before any reply: a database failure raises (the message is
        deferred); a full mailbox is returned for that recipient. Returns the entry id (or
        the `MailboxFull`) per envelope recipient. `summary` describes the message for the
        inbox list (made only when a recipient's method stores).
        """
        storing = [rcpt for rcpt, method in methods.items() if method.stores]
        if not storing or sealed is None:
            return {}
        assert plan.created is not None and plan.expires is not None
        settings = self.runtime.settings()
        unique = list({keys[rcpt].address: keys[rcpt] for rcpt in storing}.values())
        summaries = seal_summary(
            summary(),
            unique,
            sender=sender,
            message_id=plan.message_id,
            portal_url=self.portal_url,
            expires=plan.expires,
            now=plan.created,
        )
        found: dict[str, str | MailboxFull] = {}
        keystore = self.runtime.keystore
        with keystore.session() as session:
            mailbox = keystore.mailbox(session)
            for rcpt in storing:
                key = keys[rcpt]
                try:
                    entry = mailbox.store(
                        accounts[rcpt][0].recipient_id,
                        new_entry_id(),
                        message_id=plan.message_id,
                        key_version=key.key_version,
                        envelope=sealed.armored(key.address).encode("ascii"),
                        summary=summaries[key.address],
                        expires_at=plan.expires,
                        quota=int(settings.mailbox_quota),
                    )
                except MailboxFull as full:
                    found[rcpt] = full
                else:
                    found[rcpt] = entry.id
                    metrics.MAILBOX.labels(method=methods[rcpt].method, result="stored").inc()
        return found

    def _mailbox_full(
        self,
        plan: Plan,
        rcpt: str,
        method: Method,
        full: MailboxFull,
        adviser: Adviser,
        shown: str,
        subject: str,
    ) -> Method | None:
        """Handle a recipient whose mailbox is full: attachment instead, or refused (None).

        "both" always falls back to its attachment; "mailbox" does when the operator chose
        ``[mailbox] when_full = "attachment"``. Either way the adviser learns why.
        """
        if method.method == BOTH or self.runtime.config.mailbox.when_full == ATTACHMENT:
            settings = self.runtime.settings()
            notice = mailbox_full_notice(
                adviser=adviser.address,
                recipient=shown,
                subject=subject,
                used=full.used,
                limit=full.limit,
                settings=settings,
                lang=settings.default_language,
                now=self.runtime.clock(),
            )
            plan.add(notice, [rcpt])
            metrics.MAILBOX.labels(method=method.method, result="full-attached").inc()
            return Method(ATTACHMENT, method.rule, method.neutral)
        metrics.MAILBOX.labels(method=method.method, result="full-refused").inc()
        plan.refused[rcpt] = (
            "mailbox-full",
            f"The secure mailbox of {_ascii(shown)} is full ({full.used} of {full.limit} bytes "
            f"used, the message needs {full.size}); the recipient must delete messages first",
        )
        plan.decisions[rcpt] = "refused"
        return None

    def _accounts(
        self, plan: Plan, sender: str, addresses: dict[str, str]
    ) -> dict[str, tuple[Account, str | None]]:
        """Return each recipient's account and PIN to mail, with the ledger entries recorded.

        `addresses` maps each envelope recipient to its normalized address. From the account
        cache when it knows every recipient and the message gives no mobile number (one
        guarded insert per recipient, nothing else), else from the keystore.
        """
        cached = {address: self.account_cache.get(address) for address in addresses.values()}
        # A mobile number to store needs the account row: the keystore path stores it.
        if cached and all(cached.values()) and not plan.phone:
            found = {address: account for address, account in cached.items() if account}
            try:
                self._record_cached(plan, sender, found)
            except _StaleAccount as stale:
                self.account_cache.forget(stale.address)
            except DuplicateRecord:
                pass  # sealed before (the MTA retries it): the keystore path updates the entries
            else:
                return {rcpt: (found[address], None) for rcpt, address in addresses.items()}
        return self._load_accounts(plan, sender, addresses)

    def _record_cached(self, plan: Plan, sender: str, accounts: dict[str, Account]) -> None:
        """Record the ledger entries of cached accounts; raise _StaleAccount if one changed."""
        assert plan.created is not None and plan.expires is not None
        with self.runtime.keystore.driver_transaction() as transaction:
            for address, account in accounts.items():
                assert account.key is not None
                if not record_sealed_if_current(
                    transaction,
                    message_id=plan.message_id,
                    recipient_id=account.recipient_id,
                    sender=sender,
                    created=plan.created,
                    expires=plan.expires,
                    key_version=account.key.key_version,
                ):
                    raise _StaleAccount(address)  # rolls back what this loop recorded

    def _load_accounts(
        self, plan: Plan, sender: str, addresses: dict[str, str]
    ) -> dict[str, tuple[Account, str | None]]:
        """Find or create the accounts in the keystore, record the ledger, fill the cache."""
        assert plan.created is not None and plan.expires is not None
        keystore = self.runtime.keystore
        accounts: dict[str, tuple[Account, str | None]] = {}
        settled: dict[str, Account] = {}
        refusal: Refusal | None = None
        # One write transaction: accounts, keys and the ledger. Recording before the relay
        # means a message the MTA finally gives up on leaves a ledger row behind (metadata
        # only); a retry of the same message updates the same rows.
        with keystore.session() as session:
            # Counted before any account (and its argon2 PIN hash) is made; a refusal is
            # audited in this transaction, which then has nothing else to commit.
            refusal = over_cap(
                keystore,
                session,
                sender=sender,
                message_id=plan.message_id,
                addresses=list(addresses.values()),
                limit=int(self.runtime.config.filter.new_recipients_per_hour),
            )
            if refusal is not None:
                addresses = {}
            recipients = keystore.recipients(session)
            ledger = keystore.ledger(session)
            for rcpt, address in addresses.items():
                recipient, pin = recipients.get_or_create(address, created_by=sender)
                if recipient.status != "active":
                    accounts[rcpt] = (Account.of(recipient, None), None)
                    continue
                pin, pin_settled = self._pin(session, recipient, pin, plan)
                if plan.phone and plan.phone != recipient.phone:
                    recipients.set_phone(recipient, plan.phone)
                    keystore.audit(session).record(
                        PHONE_AUDIT,
                        actor=sender,
                        target=address,
                        detail=f"mobile number: {masked_phone(plan.phone)} ({PHONE_HEADER})",
                    )
                material = recipients.current_key(recipient)
                key = envelope.RecipientKey(
                    address=address,
                    key_id=material.key_id,
                    key_version=material.version,
                    key=material.key,
                )
                account = Account.of(recipient, key)
                accounts[rcpt] = (account, pin)
                if pin_settled:
                    settled[address] = account
                ledger.record_sealed(
                    message_id=plan.message_id,
                    recipient_id=recipient.id,
                    sender=sender,
                    created=plan.created,
                    expires=plan.expires,
                    key_version=material.version,
                )
        if refusal is not None:
            raise refusal
        for address, account in settled.items():
            self.account_cache.put(address, account)
        return accounts

    def _pin(
        self, session: Session, recipient: Recipient, pin: str | None, plan: Plan
    ) -> tuple[str | None, bool]:
        """Return the PIN to mail for this recipient, holding the account's PIN lease.

        get_or_create returns the PIN only to the call that created the account. If relaying
        that first message fails, the MTA's retry must still carry a PIN: an account whose
        PIN mail was never recorded as sent, whose owner never logged in, and whose PIN lease
        nobody holds (no other delivery of its first PIN is under way) gets a fresh PIN.

        The second item tells whether the account's first PIN is settled (it needs no PIN
        mail now and will not unless someone changes it): only such accounts are cached.
        """
        keystore = self.runtime.keystore
        lease = f"pin:{recipient.id}"
        if pin is None:
            if recipient.password_hash or recipient.last_login_at or not recipient.pin_hash:
                return None, True
            notices = keystore.notices(session)
            if notices.was_sent(PIN_NOTICE, str(recipient.id)):
                return None, True
            if not keystore.leases(session).acquire(lease, plan.holder, PIN_LEASE):
                return None, False
            plan.pin_leases.append(lease)
            # The delivery that held the lease records its PIN mail and frees the lease in one
            # transaction: look again now that the lease is ours (a READ COMMITTED database
            # may have shown the notice missing and the lease free on either side of it).
            if notices.was_sent(PIN_NOTICE, str(recipient.id)):
                return None, True
            log.info("recipient %s: the first PIN mail was not relayed; new PIN", recipient.id)
            return str(keystore.recipients(session).reset_pin(recipient)), False
        if not keystore.leases(session).acquire(lease, plan.holder, PIN_LEASE):
            log.warning("recipient %s: PIN lease already held", recipient.id)
        plan.pin_leases.append(lease)
        return pin, False

    def commit(self, plan: Plan, delivered: set[str]) -> None:
        """Record the PIN mails that went out and free the PIN leases of this plan."""
        if plan.triggers == [THREAD_TRIGGER]:
            self._audit_thread(plan, delivered)
        if not plan.pin_leases:
            return
        sent = {rid for rcpt, rid, _ in plan.sealed if rcpt in delivered}
        keystore = self.runtime.keystore
        with keystore.session() as session:
            notices = keystore.notices(session)
            for rid in plan.pins:
                if rid in sent:
                    notices.record(
                        PIN_NOTICE, str(rid), message_id=plan.message_id, recipient_id=rid
                    )
            leases = keystore.leases(session)
            for lease in plan.pin_leases:
                leases.release(lease, plan.holder)

    def _audit_thread(self, plan: Plan, delivered: set[str]) -> None:
        """Write to the audit log that the thread rule alone sealed a delivered message."""
        sealed = sorted({strip_secure(rcpt) for rcpt, _, _ in plan.sealed if rcpt in delivered})
        if not sealed:
            return
        keystore = self.runtime.keystore
        try:
            with keystore.session() as session:
                keystore.audit(session).record(
                    THREAD_AUDIT,
                    actor=plan.sender,
                    target=", ".join(sealed),
                    detail=f"sealed without a trigger: <{plan.message_id}> answers a mail "
                    "the recipient sent from the portal",
                )
        except (KeystoreUnavailable, DatabaseError) as exc:
            log.warning("message %s: thread audit entry not written: %s", plan.message_id, exc)


def _phone_of(message: MailMessage) -> str:
    """Return the customer's mobile number the adviser gave in X-WebCrypt-Phone, or ""."""
    try:
        return normalize_phone(message.get(PHONE_HEADER))
    except ValueError:
        return ""


class _StaleAccount(Exception):
    """A cached account changed (deactivated, deleted, key rotated or destroyed)."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


_MARKERS = (b"=?", b"#secure", b"x-webcrypt", b"sensitivity")


def _may_be_triggered(message: MailMessage, context: Context) -> bool:
    """Tell, from the bytes alone, whether a message could hold a trigger at all.

    Conservative: an encoded-word may hide the trigger word, so any is taken for one.
    """
    if not context.mail_from or not context.is_internal(context.mail_from):
        return False
    if any(has_secure_suffix(rcpt) for rcpt in context.rcpt_tos):
        return True
    head = message.header_block.lower()
    word = context.trigger_word.strip().lower().encode("utf-8", "surrogateescape")
    return any(marker in head for marker in _MARKERS) or bool(word and word in head)


def _usable_id(message_id: str) -> bool:
    """Tell whether a Message-ID fits the ledger as it is."""
    return 0 < len(message_id) <= 250 and message_id.isascii() and message_id.isprintable()


def _ascii(text: str) -> str:
    """Printable ASCII for reply texts and generated ids."""
    return text.encode("ascii", "backslashreplace").decode("ascii") or "localhost"
