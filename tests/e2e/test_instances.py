"""Several instances on one keystore: two filters and two portals, as behind a load balancer.

Every process is a real `webcrypt filter` / `webcrypt portal` configured only by
environment variables, sharing the keystore database, the master key, the
session secret and Redis for rate limits.
"""

from __future__ import annotations

import itertools
import random
import smtplib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.browser import PASSWORD, Browser, first_login
from tests.e2e.gateway import (
    ADVISER,
    PIN,
    Gateway,
    body_text,
    is_carrier,
    mail,
    plain_text,
    secure_htm,
    sort_mail,
)
from tests.e2e.processes import fresh_database
from tests.support.components import free_port, need, port_open, worker_share
from tests.support.smtp import RecordingSink

pytestmark = [pytest.mark.databases, pytest.mark.slow]


_clients = itertools.count(1)


def next_client() -> str:
    """A client address of its own, so per-address rate limits of one test spare the others."""
    number = next(_clients)
    return f"10.20.{number // 250}.{number % 250 + 1}"


@dataclass
class Cluster:
    """Two filters and two portals of one installation, and the sink they relay to."""

    gateway: Gateway
    sink: RecordingSink
    filter_ports: list[int]
    portals: list[str]

    def send(self, filter_index: int, to: str, subject: str, body: str) -> None:
        """Submit one message from the adviser to filter number `filter_index`."""
        port = self.filter_ports[filter_index]
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            client.sendmail(ADVISER, [to], mail(subject, to, body))


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Two `webcrypt filter` and two `webcrypt portal` processes on one database and Redis."""
    backend: str = request.param
    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    import redis

    # Not the database of a cluster on another worker: each flushes its own.
    redis_db = random.choice(worker_share(range(1, 16)))
    with fresh_database(backend) as url, RecordingSink() as sink:
        gateway = Gateway(
            tmp_path_factory.mktemp(f"cluster-{backend}"),
            keystore_url=url,
            relay_url=sink.url,
            WEBCRYPT_PORTAL_PUBLIC_URL="http://portal.test",
            WEBCRYPT_PORTAL_RATELIMIT_STORAGE=f"redis://127.0.0.1:6379/{redis_db}",
            WEBCRYPT_PORTAL_TRUSTED_PROXIES="1",
        )
        redis.Redis(db=redis_db).flushdb()
        try:
            gateway.init()
            ports = [free_port(), free_port()]
            # Started side by side, as behind a load balancer, then waited for.
            for port in ports:
                gateway.filter(port, wait=False)
            portals = [gateway.portal(wait=False)[1] for _ in range(2)]
            gateway.ready()
            yield Cluster(gateway, sink, ports, portals)
        finally:
            gateway.stop()
            redis.Redis(db=redis_db).flushdb()


def envelope_of(message: object) -> str:
    """The armored envelope inside a carrier's secure.htm."""
    from webcrypt.sealing.securehtm import extract_envelope

    return extract_envelope(secure_htm(message))  # type: ignore[arg-type]


def test_sealed_anywhere_opens_everywhere_and_one_login_serves_both_portals(
    cluster: Cluster,
) -> None:
    customer = f"reader{random.randint(0, 10**6)}@example.com"
    cluster.send(0, customer, "WebCrypt first", "Secret from filter one.")
    cluster.send(1, customer, "WebCrypt second", "Secret from filter two.")
    arrived = sort_mail(cluster.sink.wait_for(3))
    carriers = arrived.carriers_to(customer)
    assert len(carriers) == 2
    (pin_mail,) = [p for p in arrived.pins if customer in body_text(p)]
    pin_match = PIN.search(body_text(pin_mail))
    assert pin_match
    first, second = (envelope_of(c) for c in carriers)
    portal_a, portal_b = cluster.portals

    browser = Browser(next_client())
    page = first_login(browser, portal_a, first, customer, pin_match[1])
    assert page.status == 200, page.text[:2000]
    assert "Secret from filter one." in page.text

    # The session made on portal A is good on portal B, which opens what either filter sealed.
    browser.get(f"{portal_b}/")
    for portal in (portal_b, portal_a):
        for envelope, secret in ((second, "Secret from filter two."), (first, "one.")):
            page = browser.post(f"{portal}/read", {"envelope": envelope})
            assert page.status == 200, page.text[:2000]
            assert secret in page.text
    cluster.sink.clear()


def test_first_messages_through_both_filters_at_once_create_one_account(
    cluster: Cluster,
) -> None:
    cluster.sink.clear()
    addresses = [f"race{n}.{random.randint(0, 10**6)}@example.org" for n in range(4)]
    errors: list[BaseException] = []

    def send(index: int, address: str) -> None:
        try:
            cluster.send(index, address, "WebCrypt race", f"Race body {index}.")
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=send, args=(index, address))
        for address in addresses
        for index in (0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    arrived = sort_mail(cluster.sink.wait_for(len(addresses) * 3))
    for address in addresses:
        carriers = arrived.carriers_to(address)
        assert len(carriers) == 2
        # One account, one key: both carriers open with it, and one PIN went out.
        bodies = sorted(plain_text(cluster.gateway.open_carrier(c)) for c in carriers)
        assert [b.strip() for b in bodies] == ["Race body 0.", "Race body 1."]
        pins = [p for p in arrived.pins if address in body_text(p)]
        notes = [line for line in cluster.gateway.logs().splitlines() if "PIN" in line]
        assert len(pins) == 1, (address, notes)
    runtime = cluster.gateway.runtime()
    try:
        keystore = runtime.keystore  # type: ignore[attr-defined]
        with keystore.session() as session:
            found = [keystore.recipients(session).get(a) for a in addresses]
    finally:
        runtime.close()  # type: ignore[attr-defined]
    assert all(recipient is not None for recipient in found)
    assert len({recipient.id for recipient in found if recipient}) == len(addresses)
    cluster.sink.clear()


def test_lockout_counts_are_shared_between_portals(cluster: Cluster) -> None:
    customer = f"locked{random.randint(0, 10**6)}@example.com"
    cluster.send(0, customer, "WebCrypt hello", "Hello.")
    arrived = sort_mail(cluster.sink.wait_for(2))
    pin = PIN.search(body_text(next(p for p in arrived.pins if customer in body_text(p))))
    assert pin
    browser = Browser(next_client())
    portal_a, portal_b = cluster.portals
    page = first_login(
        browser, portal_a, envelope_of(arrived.carriers_to(customer)[0]), customer, pin[1]
    )
    assert page.status == 200
    cluster.sink.clear()

    stranger = Browser(next_client())
    stranger.get(f"{portal_a}/login")
    statuses = []
    for attempt in range(5):  # the default lockout threshold, spread over both portals
        portal = cluster.portals[attempt % 2]
        statuses.append(
            stranger.post(
                f"{portal}/login", {"email": customer, "password": "Wrong-Guess-1"}
            ).status
        )
    assert set(statuses) <= {401, 429}, statuses
    page = stranger.post(f"{portal_b}/login", {"email": customer, "password": PASSWORD})
    assert page.status in {401, 429}, "the account should be locked on every portal"


def test_login_rate_limit_is_shared_between_portals(cluster: Cluster, tmp_path: Path) -> None:
    browser = Browser(next_client())
    page = browser.get(f"{cluster.portals[0]}/login")
    token = page.hidden.get("csrf_token", "")
    assert token, page.text[:2000]
    statuses = []
    for attempt in range(12):
        portal = cluster.portals[attempt % 2]
        fields = {"csrf_token": token, "email": "nobody@example.com", "password": "wrong-guess"}
        statuses.append(browser.post(f"{portal}/login", fields, carry=False).status)
        if statuses[-1] == 429:
            break
    # Ten per minute in all: with limits kept per portal, twelve attempts would all be 401.
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}, statuses


def test_rate_limits_count_each_client_behind_the_load_balancer(cluster: Cluster) -> None:
    """With one trusted proxy in front, the client address comes from X-Forwarded-For."""
    spent, fresh = Browser(next_client()), Browser(next_client())
    spent.get(f"{cluster.portals[0]}/login")
    fields = {"email": "someone@example.com", "password": "wrong-guess"}
    statuses = [spent.post(f"{cluster.portals[0]}/login", fields).status for _ in range(11)]
    shared = "all clients share one rate-limit key: is X-Forwarded-For reaching the app?"
    assert statuses[:10] == [401] * 10 and statuses[10] == 429, (statuses, shared)
    fresh.get(f"{cluster.portals[1]}/login")
    assert fresh.post(f"{cluster.portals[1]}/login", fields).status == 401, shared


@pytest.mark.parametrize("probe", ["Vertraulich"])
def test_admin_setting_reaches_every_filter_within_a_minute(cluster: Cluster, probe: str) -> None:
    customer = "setting.probe@example.com"
    runtime = cluster.gateway.runtime()
    try:
        keystore = runtime.keystore  # type: ignore[attr-defined]
        with keystore.session() as session:
            keystore.settings(session).update({"trigger_word": probe}, actor="admin@bank.example")
    finally:
        runtime.close()  # type: ignore[attr-defined]
    cluster.sink.clear()
    sealed = [False, False]
    deadline = time.monotonic() + 70
    while not all(sealed) and time.monotonic() < deadline:
        for index in (0, 1):
            if sealed[index]:
                continue
            before = len(cluster.sink.messages)
            cluster.send(index, customer, f"{probe} probe", "Probe.")
            received = cluster.sink.wait_for(before + 1)[before:]
            sealed[index] = any(is_carrier(message) for message in received)
        time.sleep(2)
    assert sealed == [True, True]


def test_logout_on_one_portal_ends_every_copy_of_the_session_on_the_other(
    cluster: Cluster,
) -> None:
    customer = f"leaving{random.randint(0, 10**6)}@example.com"
    cluster.sink.clear()  # the module's earlier tests leave their mail in the sink
    # "#secure" triggers whatever trigger word an earlier test of the module has set.
    cluster.send(0, f"{customer}#secure", "Hello", "Hello.")
    arrived = sort_mail(cluster.sink.wait_for(2))
    pin = PIN.search(body_text(next(p for p in arrived.pins if customer in body_text(p))))
    assert pin
    portal_a, portal_b = cluster.portals
    browser = Browser(next_client())
    page = first_login(
        browser, portal_a, envelope_of(arrived.carriers_to(customer)[0]), customer, pin[1]
    )
    assert page.status == 200
    cluster.sink.clear()
    copy = Browser(next_client())
    for cookie in browser.cookies:
        copy.cookies.set_cookie(cookie)
    assert "Change password" in copy.get(f"{portal_b}/profile").text

    browser.get(f"{portal_a}/profile")
    assert browser.post(f"{portal_a}/logout", {}).status == 200  # the login page, redirected
    for portal in (portal_b, portal_a):
        assert "Change password" not in copy.get(f"{portal}/profile").text
