"""Faults between Postfix, the filter, the relay and the keystore: nothing lost or leaked.

Postfix (the guide's configuration) is the sending MTA that queues and retries;
the filter relays straight to the recording sink, which can refuse, stall or
vanish. Each test counts what arrives at the sink: every message exactly once
(the documented SMTP mode with one recipient per delivery allows no duplicate
in these scenarios), and no triggered message in plaintext.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import Browser
from tests.e2e.gateway import ADVISER, COLLEAGUE, Gateway, body_text, mail, sort_mail
from tests.e2e.processes import fresh_database, http_status
from tests.e2e.tcpproxy import TcpProxy
from tests.support.components import need, port_open
from tests.support.postfix import PostfixInstance
from tests.support.smtp import RecordingSink

pytestmark = [pytest.mark.postfix, pytest.mark.slow]

CUSTOMERS = ["anna@example.com", "bert@example.net"]
SECRET = "Account 4711 balance 1,000,000."
RELAY_TIMEOUT = 3.0


def relaying_gateway(
    tmp_path: Path,
    mta: PostfixInstance,
    sink: RecordingSink,
    keystore_url: str | None = None,
    relay_timeout: float = RELAY_TIMEOUT,
) -> Gateway:
    """An initialised gateway whose filter relays straight to the sink, with a short timeout."""
    gateway = Gateway(
        tmp_path,
        keystore_url=keystore_url,
        config_toml=mta.webcrypt_toml(),
        WEBCRYPT_FILTER_RELAY=sink.url,
        WEBCRYPT_FILTER_RELAY_TIMEOUT=str(relay_timeout),
    )
    gateway.init()
    return gateway


@pytest.fixture
def faulty(tmp_path: Path, mta: PostfixInstance, sink: RecordingSink) -> Iterator[Gateway]:
    """A gateway whose filter relays straight to the sink, with a short relay timeout."""
    installation = relaying_gateway(tmp_path, mta, sink)
    try:
        yield installation
    finally:
        installation.stop()


def known_customers(mta: PostfixInstance, sink: RecordingSink) -> None:
    """Send each customer a first message (accounts, PIN mails), then forget the sink's mail."""
    for customer in CUSTOMERS:
        mta.submit(ADVISER, [customer], mail("WebCrypt welcome", customer, SECRET))
    mta.wait_until_empty()
    sink.wait_for(2 * len(CUSTOMERS))
    sink.clear()


def submit_batch(mta: PostfixInstance) -> None:
    """One sealed message per customer and one internal message."""
    for customer in CUSTOMERS:
        mta.submit(ADVISER, [customer], mail("WebCrypt statement", customer, SECRET))
    mta.submit(ADVISER, [COLLEAGUE], mail("WebCrypt note", COLLEAGUE, SECRET))


def assert_batch_once(sink: RecordingSink, gateway: Gateway) -> None:
    """The batch arrived exactly once: sealed for customers, plain for the colleague."""
    received = sink.wait_for(len(CUSTOMERS) + 1, timeout=30)
    time.sleep(0.5)  # a duplicate would arrive right behind
    arrived = sort_mail(sink.messages)
    assert len(sink.messages) == len(CUSTOMERS) + 1, gateway.logs()
    assert sorted(c.rcpt_tos[0] for c in arrived.carriers) == sorted(CUSTOMERS)
    assert [p.rcpt_tos for p in arrived.plain] == [[COLLEAGUE]]
    for message in received:
        if message.rcpt_tos != [COLLEAGUE]:
            assert SECRET.encode() not in message.data


def deferred_reasons(mta: PostfixInstance, count: int) -> list[str]:
    """Wait until `count` messages are deferred; return their reasons."""
    return [
        str(recipient.get("delay_reason", ""))
        for item in mta.wait_deferred(count)
        for recipient in item["recipients"]
    ]


def start_with_customers(faulty: Gateway, mta: PostfixInstance, sink: RecordingSink) -> Any:
    """Start the filter and let each customer get a first message; return the filter process."""
    process = faulty.filter()
    known_customers(mta, sink)
    return process


def assert_batch_deferred(mta: PostfixInstance) -> None:
    """Postfix deferred the three messages of the batch with the filter's 451."""
    reasons = deferred_reasons(mta, 3)
    assert all("451" in reason for reason in reasons), reasons


def accept_and_retry(
    sink: RecordingSink, mta: PostfixInstance, faulty: Gateway, *, restart: bool = False
) -> None:
    """Let the relay accept again (after restarting the filter when `restart`), flush Postfix's
    queue, and check that the batch arrived exactly once."""
    sink.accept()
    if restart:
        faulty.filter()
    mta.wait_until_empty(timeout=60, flush=True)
    assert_batch_once(sink, faulty)


def test_relay_down_and_back(
    mta: PostfixInstance, sink: RecordingSink, faulty: Gateway, tmp_path: Path
) -> None:
    start_with_customers(faulty, mta, sink)
    sink.stop()
    submit_batch(mta)
    assert_batch_deferred(mta)
    with RecordingSink(port=sink.port) as back:
        mta.wait_until_empty(timeout=60, flush=True)
        assert_batch_once(back, faulty)


@pytest.mark.parametrize("reply", ["451 4.3.0 Busy, come back later", "421 4.4.2 Closing"])
def test_relay_refuses_temporarily(
    mta: PostfixInstance, sink: RecordingSink, faulty: Gateway, reply: str
) -> None:
    start_with_customers(faulty, mta, sink)
    sink.refuse(reply)
    submit_batch(mta)
    assert_batch_deferred(mta)
    assert sink.messages == []
    accept_and_retry(sink, mta, faulty)


def test_relay_refuses_for_good_the_adviser_gets_a_bounce(
    mta: PostfixInstance, sink: RecordingSink, faulty: Gateway
) -> None:
    start_with_customers(faulty, mta, sink)
    sink.refuse("554 5.7.1 Not accepted here", at="RCPT", address=CUSTOMERS[0])
    mta.submit(ADVISER, [CUSTOMERS[0]], mail("WebCrypt statement", CUSTOMERS[0], SECRET))
    mta.wait_until_empty(timeout=60)
    (bounce,) = sink.wait_for(1)
    time.sleep(0.5)
    assert len(sink.messages) == 1
    # Postfix bounced the refusal to the adviser; nothing reached the customer.
    assert bounce.rcpt_tos == [ADVISER]
    assert "554" in bounce.data.decode(errors="replace")
    assert mta.wait_log(r"status=bounced")


def test_relay_stalls_past_the_timeout(
    mta: PostfixInstance, sink: RecordingSink, faulty: Gateway
) -> None:
    start_with_customers(faulty, mta, sink)
    stall = RELAY_TIMEOUT + 3
    # The stalled relay never commits: after the stall it refuses what it held.
    sink.stall(stall)
    sink.refuse("451 4.3.0 Lost the message")
    started = time.monotonic()
    submit_batch(mta)
    assert_batch_deferred(mta)
    # Let every stalled transaction end before the relay accepts again.
    time.sleep(max(0.0, started + stall + RELAY_TIMEOUT + 1 - time.monotonic()))
    assert sink.messages == []
    accept_and_retry(sink, mta, faulty)


def test_filter_killed_mid_transaction(
    mta: PostfixInstance, sink: RecordingSink, faulty: Gateway
) -> None:
    process = start_with_customers(faulty, mta, sink)
    stall = 4.0
    # The relay holds the first message's DATA reply and then never commits it.
    sink.stall(stall)
    sink.refuse("451 4.3.0 Lost the message")
    submit_batch(mta)
    sink.wait_for_attempt()
    killed = time.monotonic()
    process.signal(signal.SIGKILL)
    process.wait(10)
    assert deferred_reasons(mta, 3)
    time.sleep(max(0.0, killed + stall + 1 - time.monotonic()))
    assert sink.messages == []
    accept_and_retry(sink, mta, faulty, restart=True)


def test_sigterm_during_load_drains(
    tmp_path: Path, mta: PostfixInstance, sink: RecordingSink
) -> None:
    # The relay may take far longer than the stall below before the filter gives up on it:
    # what is checked is the drain, not the relay timeout (a relayed message answered 451
    # would come again, a duplicate the drain is not about).
    gateway = relaying_gateway(tmp_path, mta, sink, relay_timeout=60)
    try:
        process = start_with_customers(gateway, mta, sink)
        count = 12
        sink.stall(1.5)  # every relayed message takes a while: SIGTERM lands mid-flight
        for number in range(count):
            customer = CUSTOMERS[number % 2]
            mta.submit(ADVISER, [customer], mail(f"WebCrypt load {number}", customer, SECRET))
        sink.wait_for_attempt()
        in_flight = sink.attempts
        process.signal(signal.SIGTERM)
        assert process.wait_exit(90) == 0, process.log()
        # Every transaction that reached the relay before SIGTERM was finished.
        assert len(sink.messages) >= in_flight, ("in-flight messages lost", gateway.logs())
        sink.accept()
        gateway.filter()
        mta.wait_until_empty(timeout=120, flush=True)
        # Postfix dequeues a message only after the filter's 250, which comes only after the
        # sink recorded it: with the queue empty, everything has arrived.
        subjects = sorted(m.parsed()["Subject"] for m in sink.messages)
        assert len(subjects) == count, (subjects, gateway.logs())
        assert len(set(subjects)) == count  # nothing twice: drained transactions were acknowledged
    finally:
        gateway.stop()


@pytest.fixture(params=["postgresql", "mariadb"])
def proxied_database(request: pytest.FixtureRequest) -> Iterator[tuple[str, TcpProxy]]:
    """A fresh keystore database reached through a proxy the test can cut."""
    port = {"postgresql": 5432, "mariadb": 3306}[request.param]
    need(port_open("127.0.0.1", port), f"{request.param} is not running on 127.0.0.1:{port}")
    with fresh_database(request.param) as url:
        proxy = TcpProxy("127.0.0.1", port).start()
        try:
            yield url.replace(f"@127.0.0.1:{port}/", f"@127.0.0.1:{proxy.port}/"), proxy
        finally:
            proxy.stop()


def test_keystore_database_stopped_mid_run(
    tmp_path: Path,
    mta: PostfixInstance,
    sink: RecordingSink,
    proxied_database: tuple[str, TcpProxy],
) -> None:
    url, database = proxied_database
    gateway = relaying_gateway(tmp_path, mta, sink, keystore_url=url)
    try:
        gateway.filter()
        _portal, base = gateway.portal(WEBCRYPT_PORTAL_PUBLIC_URL="http://portal.test")
        known_customers(mta, sink)

        database.cut()
        submit_batch(mta)
        reasons = deferred_reasons(mta, 2)
        assert any("key store" in reason for reason in reasons), reasons
        # Plaintext for the colleague may pass (no keys needed); nothing sealed went out unsealed.
        for message in sink.messages:
            assert message.rcpt_tos == [COLLEAGUE] and SECRET in body_text(message)
        # The portal stays alive but not ready, and tells a recipient to come back later.
        assert http_status(f"{base}/healthz") == 200
        assert http_status(f"{base}/readyz") == 503
        browser = Browser()
        browser.get(f"{base}/login")
        page = browser.post(
            f"{base}/login", {"email": CUSTOMERS[0], "password": "Some-Password-123"}
        )
        assert page.status == 503, page.text[:2000]
        assert "try again later" in page.text.lower()

        database.restore()
        mta.wait_until_empty(timeout=90, flush=True)
        assert_batch_once(sink, gateway)
        deadline = time.monotonic() + 30
        while http_status(f"{base}/readyz") != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert http_status(f"{base}/readyz") == 200
        browser.get(f"{base}/login")
        page = browser.post(
            f"{base}/login", {"email": CUSTOMERS[0], "password": "Some-Password-123"}
        )
        assert page.status == 401, page.text[:2000]
    finally:
        gateway.stop()


def test_first_contact_pin_survives_a_relay_outage(
    mta: PostfixInstance, sink: RecordingSink, faulty: Gateway
) -> None:
    faulty.filter()
    sink.stop()
    customer = "new.customer@example.org"
    mta.submit(ADVISER, [customer], mail("WebCrypt first contact", customer, SECRET))
    assert deferred_reasons(mta, 1)
    with RecordingSink(port=sink.port) as back:
        mta.wait_until_empty(timeout=60, flush=True)
        back.wait_for(1)
        time.sleep(1)
        arrived = sort_mail(back.messages)
    assert [c.rcpt_tos for c in arrived.carriers] == [[customer]]
    # The account was created on the failed attempt; the adviser still needs its PIN.
    assert len(arrived.pins) == 1, faulty.logs()


@pytest.mark.parametrize(
    "override",
    ["", "webcrypt_destination_recipient_limit = 50\n"],
    ids=["guide-one-recipient", "fifty-recipients"],
)
def test_partial_relay_failure_sends_nothing_twice(
    tmp_path: Path, sink: RecordingSink, override: str
) -> None:
    """The relay takes the first carrier and refuses the second for now, then recovers: the
    retry of the whole delivery leaves out the carrier that went out."""
    copies_of_first = 1
    with PostfixInstance(relay_port=sink.port, main_override=override) as mta:
        gateway = relaying_gateway(tmp_path, mta, sink)
        try:
            gateway.filter()
            known_customers(mta, sink)
            first, second = sorted(CUSTOMERS)
            sink.refuse("451 4.2.0 Mailbox busy", at="RCPT", address=second)
            mta.submit(
                ADVISER, [first, second], mail("WebCrypt both", f"{first}, {second}", SECRET)
            )
            assert deferred_reasons(mta, 1)
            sink.accept()
            mta.wait_until_empty(timeout=60, flush=True)
            sink.wait_for(copies_of_first + 1)
            time.sleep(0.5)
            delivered = sorted(m.rcpt_tos[0] for m in sink.messages)
            assert delivered == sorted([first] * copies_of_first + [second]), gateway.logs()
            assert all(SECRET.encode() not in m.data for m in sink.messages)
        finally:
            gateway.stop()
