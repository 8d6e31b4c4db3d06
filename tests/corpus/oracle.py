"""The equality oracle: one runtime with the real filter, its sink, and the portal on top.

`Gateway` sends raw bytes through the filter over SMTP (dot-stuffed as RFC 5321 says, so
the filter receives exactly the given bytes), collects what the sink received, opens the
carrier through the portal's own pages and downloads, and compares everything with the
corpus expectations. The checks raise AssertionError with a message that names what
differs; nothing here knows the product's parsing code.
"""

from __future__ import annotations

import hashlib
import html
import re
import smtplib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from tests.corpus.build import ADVISER, CUSTOMER, Spec
from tests.corpus.mime import Download, Shown
from tests.filter.conftest import BANK, PORTAL
from tests.filter.helpers import PIN_PATTERN, pin_mails
from tests.keystore.conftest import FakeClock, fast_hasher
from tests.portal.conftest import first_login
from tests.portal.helpers import csrf_token
from tests.support.components import free_port
from tests.support.keystores import migrated_sqlite
from tests.support.smtp import Received, RecordingSink
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime
from webcrypt.sealing.securehtm import extract_envelope
from webcrypt.smtp.handler import FilterServer

PARTNER = "partner@cust.example"
"""An external sender: mail from it is never encrypted, whatever its Subject says."""
SECURE = f"{CUSTOMER}#secure"
MAX_LINE = 998
"""RFC 5322 section 2.1.1: no line of a message may be longer (without its CRLF)."""

PORTAL_CONFIG = {
    "SECRET_KEY": "corpus-secret",
    "TESTING": True,
    "RATELIMIT_ENABLED": False,
    "RATELIMIT_LOGIN": "100000 per minute",
    "RATELIMIT_OPEN": "100000 per minute",
    "RATELIMIT_SEND": "100000 per minute",
}


def generated(max_examples: int) -> settings:
    """Hypothesis settings for examples sent through the gateway: slow, so no deadline, and
    derandomized so that a run finds the same cases every time."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def wire(raw: bytes) -> bytes:
    """The message as SMTP carries it: DATA content always ends with CRLF."""
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


def stuff(data: bytes) -> bytes:
    """Dot-stuff DATA content exactly as RFC 5321 section 4.5.2 says (lines end in CRLF)."""
    data = wire(data)
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..") + b".\r\n"


@dataclass
class Reply:
    """The filter's answer to one transaction and what reached the sink."""

    code: int
    text: str
    received: list[Received] = field(default_factory=list)


class Gateway:
    """A runtime with its filter, recording sink and portal client, shared by many tests."""

    def __init__(self, root: Path) -> None:
        self.sink = RecordingSink().start()
        self.clock = FakeClock()
        env = {
            "WEBCRYPT_GENERAL_DATA_DIR": str(root),
            "WEBCRYPT_KEYSTORE_URL": migrated_sqlite(root / "keystore.db"),
            "WEBCRYPT_FILTER_RELAY": self.sink.url,
            "WEBCRYPT_FILTER_LISTEN": f"127.0.0.1:{free_port()}",
            "WEBCRYPT_FILTER_INTERNAL_DOMAINS": BANK,
            "WEBCRYPT_FILTER_RELAY_TIMEOUT": "30",
            "WEBCRYPT_PORTAL_PUBLIC_URL": PORTAL,
        }
        config = load_config(None, environ=env)
        master_key = MasterKey.generate()
        self.runtime = Runtime(config, clock=self.clock, master_key=master_key)
        self.runtime.keystore.engine.dispose()
        self.runtime.keystore = Keystore(
            config.keystore.url, master_key=master_key, clock=self.clock, hasher=fast_hasher()
        )
        self.server = FilterServer(self.runtime, listen="127.0.0.1:0", settings_interval=0.05)
        self.server.start()
        from portal import create_app

        self.app = create_app(self.runtime, dict(PORTAL_CONFIG))
        self.client: FlaskClient = self.app.test_client()

    @classmethod
    def create(cls, root: Path) -> Gateway:
        """Start a gateway and log the corpus recipient in to the portal."""
        gateway = cls(root)
        try:
            gateway.log_in()
        except BaseException:
            gateway.close()
            raise
        return gateway

    def log_in(self) -> None:
        """Create the recipient's account with a first sealed mail and set its password."""
        first = (
            f"From: {ADVISER}\r\nTo: {CUSTOMER}\r\nSubject: Willkommen\r\n"
            "Message-ID: <corpus-first@bank.example>\r\n\r\nErste Nachricht.\r\n"
        ).encode()
        reply = self.send(first, mail_from=ADVISER, rcpt_tos=[SECURE])
        assert reply.code == 250, reply.text
        (pin,) = pin_mails(reply.received)
        found = PIN_PATTERN.search(pin.parsed().get_content())
        assert found is not None
        response = first_login(self.client, found.group(1), address=CUSTOMER)
        assert response.status_code in (200, 302), response.status_code

    def close(self) -> None:
        """Stop the filter, the runtime and the sink."""
        self.server.stop(drain_timeout=5)
        self.runtime.close()
        self.sink.stop()

    # -- the filter --------------------------------------------------------------------------

    def send(self, data: bytes, *, mail_from: str, rcpt_tos: list[str]) -> Reply:
        """Run one SMTP transaction with exactly `data` as content; return the DATA reply."""
        self.sink.clear()
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=120) as client:
            client.ehlo("corpus.test")
            options = [] if data.isascii() else ["BODY=8BITMIME"]
            code, text = client.mail(mail_from, options)
            assert code == 250, (code, text)
            for rcpt in rcpt_tos:
                code, text = client.rcpt(rcpt)
                assert code == 250, (code, text)
            code, text = client.docmd("DATA")
            assert code == 354, (code, text)
            client.send(stuff(data))
            code, reply = client.getreply()
        return Reply(code, reply.decode("utf-8", "replace"), list(self.sink.messages))

    # -- the portal --------------------------------------------------------------------------

    def read(self, armored: str) -> Any:
        """Post the envelope to the read page, as the button in secure.htm leads to."""
        token = csrf_token(self.client.get("/upload").data)
        return self.client.post("/read", data={"csrf_token": token, "envelope": armored})

    def download(self, armored: str, page: bytes, part: str) -> Any:
        """Download one part (or "eml") offered on a read page."""
        data = {"csrf_token": csrf_token(page), "envelope": armored, "part": part}
        return self.client.post("/download", data=data)


# -- expectations -----------------------------------------------------------------------------


def collapse(text: str) -> str:
    """Text with every run of white space made one space."""
    return " ".join(text.split())


class _TextOf(HTMLParser):
    """Visible text of an HTML document, including documents inside iframe srcdoc."""

    SKIP = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        for name, value in attrs:
            if tag == "iframe" and name == "srcdoc" and value:
                self.chunks.append(" " + visible_text(value) + " ")
        if tag in ("br", "p", "div", "tr", "li", "dd", "dt", "pre", "h1", "h2", "td"):
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        self.chunks.append(" " if tag in ("p", "div", "td", "dd", "dt", "li", "pre") else "")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data)


def visible_text(document: str) -> str:
    """The collapsed visible text of an HTML document (iframe srcdoc documents included)."""
    parser = _TextOf()
    parser.feed(document)
    parser.close()
    return collapse("".join(parser.chunks))


def expected_text(item: Shown) -> str:
    """What the read page must contain for one text part, collapsed."""
    return visible_text(item.text) if item.html else collapse(item.text)


def part_values(page: str) -> list[str]:
    """Every value a read page offers for the download form's `part` field."""
    found = re.findall(r'name="part"[^>]*value="([^"]*)"', page)
    found += re.findall(r'value="([^"]*)"[^>]*name="part"', page)
    return list(dict.fromkeys(html.unescape(v) for v in found))


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")


def field_spans(raw: bytes) -> list[tuple[bytes, int, int]]:
    """(lower-cased name, start, end) of each header field, for any line ends.

    The header block ends at an empty line, or at the first line that is neither a field
    nor a continuation (a body written without the blank line before it).
    """
    spans: list[tuple[bytes, int, int]] = []
    for match in _LINE.finditer(raw):
        line = match.group()
        if not line:
            break
        content = line.rstrip(b"\r\n")
        if not content:
            break
        if content[:1] in (b" ", b"\t") and spans:
            name, start, _ = spans[-1]
            spans[-1] = (name, start, match.end())
        elif re.match(rb"[!-9;-~]+:", content):
            spans.append((content.split(b":", 1)[0].lower(), match.start(), match.end()))
        else:
            break
    return spans


def decode_subject(field_bytes: bytes) -> str:
    """The decoded, collapsed value of a Subject field as a modern mail client shows it.

    The standard library's modern header parser joins adjacent encoded words and keeps
    the white space between an encoded word and plain text (RFC 2047 section 6.2).
    """
    parsed = message_from_bytes(field_bytes.lstrip() + b"\r\n\r\n", policy=policy.default)
    return collapse(str(parsed.get("Subject", "")))


def compare_inner(spec: Spec, sent: bytes, inner: bytes) -> None:
    """Assert the decrypted message is `sent` except for the documented rewrites.

    Documented: a Message-ID field added when the message had none, and for mail triggered
    by its Subject, that one field replaced by the Subject without the trigger word.
    """
    names = [name for name, _, _ in field_spans(sent)]
    if b"message-id" not in names:
        added = re.search(rb"(?im)^Message-ID: <[^>\r\n]*>(\r\n|\r|\n)", inner)
        assert added is not None, "no Message-ID added to a message without one"
        inner = inner[: added.start()] + inner[added.end() :]
    if spec.trigger == "envelope":
        assert inner == sent, _first_difference(sent, inner)
        return
    (subject,) = [(s, e) for name, s, e in field_spans(sent) if name == b"subject"]
    prefix, suffix = sent[: subject[0]], sent[subject[1] :]
    assert inner.startswith(prefix), _first_difference(sent, inner)
    assert inner.endswith(suffix), "the message after the Subject changed: " + _first_difference(
        sent[::-1], inner[::-1]
    )
    rewritten = inner[len(prefix) : len(inner) - len(suffix)]
    assert rewritten.lower().startswith(b"subject:"), rewritten[:80]
    assert all(len(line) <= MAX_LINE for line in rewritten.splitlines()), "a line over 998 octets"
    assert decode_subject(rewritten) == collapse(spec.subject_after or ""), rewritten[:200]


def _first_difference(expected: bytes, actual: bytes) -> str:
    index = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    return (
        f"differs at byte {index} (lengths {len(expected)} / {len(actual)}): "
        f"expected {expected[max(0, index - 40) : index + 40]!r}, "
        f"got {actual[max(0, index - 40) : index + 40]!r}"
    )


def body_secrets(data: bytes) -> list[bytes]:
    """Long lines after the header block: text that must not reach the sink in clear.

    Lines shaped like header fields are left out: an attached message's fields, or a
    damaged header block read as body, look like the carrier's own fields.
    """
    spans = field_spans(data)
    head = data[: spans[-1][2]] if spans else b""
    lines = (line.strip() for line in re.split(rb"\r\n|\r|\n", data[len(head) :]))
    return [
        line[:120]
        for line in lines
        if len(line) >= 24
        and not line.startswith(b"--")
        and line not in head
        and not re.match(rb"[!-9;-~]+:", line)
    ]


def secrets_of(spec: Spec, sent: bytes) -> list[bytes]:
    """Byte strings of the content that must never appear in clear at the sink."""
    found = body_secrets(sent)
    for item in spec.expect:
        if isinstance(item, Shown):
            for line in expected_text(item).split(". "):
                if len(line) >= 16:
                    found.append(line[:120].encode("utf-8"))
        elif len(item.data) >= 32:
            # From the middle: the start of an attached message is header fields.
            middle = len(item.data) // 2
            found.append(item.data[max(0, middle - 32) : middle + 32])
    # The Subject is meant to be readable in the carrier: lines that repeat it are no secret.
    subjects = (spec.subject, spec.subject_after or "")
    return [
        secret
        for secret in dict.fromkeys(found)
        if not any(secret.decode("utf-8", "ignore") in subject for subject in subjects)
    ]


def assert_no_plaintext(spec: Spec, sent: bytes, received: list[Received]) -> None:
    """No secret of the message appears at the sink, raw or in any decoded part."""
    secrets = secrets_of(spec, sent)
    for mail in received:
        views = [mail.data]
        for part in message_from_bytes(mail.data, policy=policy.compat32).walk():
            payload = None if part.is_multipart() else part.get_payload(decode=True)
            if isinstance(payload, bytes):
                views.append(payload)
        for secret in secrets:
            for view in views:
                assert secret not in view, f"plaintext at the sink: {secret[:60]!r}"


def assert_carrier_subject(carrier: Received, subject: str) -> None:
    """The carrier's Subject, as the recipient's mail client decodes it, is `subject`."""
    (span,) = [(s, e) for name, s, e in field_spans(carrier.data) if name == b"subject"]
    shown = decode_subject(carrier.data[span[0] : span[1]])
    assert shown == collapse(subject), f"carrier Subject {shown!r}, expected {subject!r}"


def assert_rfc5322_lines(received: list[Received]) -> None:
    """Every line the filter wrote is at most 998 octets and ends in CRLF."""
    for mail in received:
        lines = mail.data.split(b"\r\n")
        assert all(len(line) <= MAX_LINE for line in lines), "a line over 998 octets"
        assert b"\r" not in mail.data.replace(b"\r\n", b""), "a bare CR in a relayed mail"
        assert b"\n" not in mail.data.replace(b"\r\n", b""), "a bare LF in a relayed mail"


MAX_DOWNLOADS = 30
"""Above this many offered parts, a spread sample is downloaded (each download re-opens the
whole message, so downloading 1000 parts of a 1000-part message is quadratic)."""


@dataclass
class Reading:
    """What the portal gave for one carrier: the page text and the downloads made."""

    page: str
    text: str
    downloads: dict[str, bytes]
    eml: bytes
    offered: int
    sampled: bool


def _sample(parts: list[str]) -> list[str]:
    """All parts, or a spread sample (first, last, every n-th) of a long list."""
    if len(parts) <= MAX_DOWNLOADS:
        return parts
    step = -(-len(parts) // 20)
    return list(dict.fromkeys([*parts[::step], parts[-1]]))


def read_through_portal(gateway: Gateway, carrier: Received) -> Reading:
    """Open a carrier in the portal and download everything the page offers."""
    armored = extract_envelope(carrier.data)
    response = gateway.read(armored)
    assert response.status_code == 200, f"read page answered {response.status_code}"
    page_bytes = response.data
    page = page_bytes.decode("utf-8")
    downloads: dict[str, bytes] = {}
    eml = b""
    offered = [p for p in part_values(page) if p != "eml"]
    for part in [*_sample(offered), "eml"]:
        got = gateway.download(armored, page_bytes, part)
        assert got.status_code == 200, f"download of part {part} answered {got.status_code}"
        if part == "eml":
            eml = got.data
        else:
            downloads[part] = got.data
    sampled = len(offered) > MAX_DOWNLOADS
    return Reading(page, visible_text(page), downloads, eml, len(offered), sampled)


def assert_reading(spec: Spec, reading: Reading, inner: bytes, subject: str) -> None:
    """The read page shows every text and header, and offers every other part exactly."""
    problems: list[str] = []
    if collapse(subject) not in reading.text:
        problems.append(f"subject {subject[:80]!r} not shown")
    problems += [f"header text {s!r} not shown" for s in spec.shown if s not in reading.text]
    texts = [expected_text(e) for e in spec.expect if isinstance(e, Shown)]
    problems += [f"text not shown: {t[:80]!r}" for t in texts if t not in reading.text]
    if "\ufffd" in reading.text:
        problems.append("U+FFFD on the page")
    digests = {hashlib.sha256(d).hexdigest() for d in reading.downloads.values()}
    files = [e for e in spec.expect if isinstance(e, Download)]
    if reading.sampled:
        # Every sampled download must be one of the parts, and enough parts must be offered.
        wanted = {e.sha256 for e in files}
        if digests - wanted:
            problems.append("a sampled download is none of the parts sent")
        if reading.offered < len(files):
            problems.append(f"{reading.offered} parts offered, {len(files)} expected")
        files = []
    for item in files:
        if item.sha256 in digests:
            continue
        if item.inner and all(hashlib.sha256(d).hexdigest() in digests for d in item.inner):
            continue
        if item.either_text and collapse(item.either_text) in reading.text:
            continue
        problems.append(f"{item.content_type} ({len(item.data)} bytes) not downloadable as sent")
    if reading.eml != inner:
        problems.append("the .eml download differs from the decrypted message")
    assert not problems, "; ".join(problems)
