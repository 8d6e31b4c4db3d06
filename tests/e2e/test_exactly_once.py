"""Nothing lost, nothing leaked through a real Postfix while the filter is killed (SIGKILL).

Postfix (the guide's configuration, reinjection included) queues a load of messages: most
are sealed for known customers, some go plain to a colleague. While they flow, the filter
is killed at random moments and started again at once. When Postfix's queue is empty, the
sink must hold every message, no sealed one in plaintext, and a message twice only where a
kill fell into the window between the relay's acceptance of a mail and the record of it
(docs/operations.md, "Exactly once"): only a message whose delivery to the filter Postfix
logged as cut after the final dot, and at most `PARALLEL` per kill. The run prints how many
it saw; that the records leave out what was relayed is checked exactly in
tests/filter/test_exactly_once.py and tests/e2e/test_faults.py.

The size is set by WEBCRYPT_ONCE_MESSAGES (default 300) and WEBCRYPT_ONCE_RUNS (default 2),
the keystore by WEBCRYPT_ONCE_KEYSTORE (sqlite, postgresql or mariadb; default sqlite);
the full check of the operations guide is 1,000 messages five times::

    WEBCRYPT_ONCE_MESSAGES=1000 WEBCRYPT_ONCE_RUNS=5 pytest tests/e2e/test_exactly_once.py
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import smtplib
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.gateway import ADVISER, COLLEAGUE, Gateway, mail, sort_mail
from tests.e2e.processes import WebcryptProcess, fresh_database
from tests.support.postfix import PostfixInstance
from tests.support.smtp import RecordingSink

pytestmark = [pytest.mark.postfix, pytest.mark.slow]

CUSTOMERS = ["anna@example.com", "bert@example.net", "carla@example.org"]
SECRET = "Account 4711 balance 1,000,000."
MESSAGES = int(os.environ.get("WEBCRYPT_ONCE_MESSAGES", "300"))
RUNS = int(os.environ.get("WEBCRYPT_ONCE_RUNS", "2"))
NUMBER = re.compile(r"load (\d+)")
QUEUED = re.compile(r"queued as (\w+)")


def recipient_of(number: int) -> str:
    """Every fifth message goes plain to the colleague, the others sealed to a customer."""
    return COLLEAGUE if number % 5 == 0 else CUSTOMERS[number % len(CUSTOMERS)]


def submit_all(mta: PostfixInstance, run: int, count: int) -> dict[int, str]:
    """Queue the load; return Postfix's queue id of each message by its number."""
    queue_ids = {}
    with smtplib.SMTP("127.0.0.1", mta.smtp_port, timeout=60) as client:
        for number in range(count):
            to = recipient_of(number)
            client.mail(ADVISER)
            client.rcpt(to)
            code, reply = client.data(mail(f"WebCrypt run {run} load {number}", to, SECRET))
            queued = QUEUED.search(reply.decode())
            assert code == 250 and queued, reply
            queue_ids[number] = queued[1]
    return queue_ids


def cut_after_the_dot(maillog: str, filter_port: int) -> set[str]:
    """The queue ids of deliveries to the filter whose answer to the final dot was lost.

    Postfix logs them as "lost connection ... while sending end of data -- message may be
    sent more than once"; with them, deliveries the filter deferred because the relay failed
    (a relay that took the mail and broke before its 250, RFC 1047).
    """
    relay = re.escape(f"relay=127.0.0.1[127.0.0.1]:{filter_port},")
    cut = re.compile(
        rf"postfix/smtp\[\d+\]: (\w+): to=<[^>]*>, {relay}.*status=deferred "
        r"\(.*(?:while sending end of data|Could not pass the message on)"
    )
    return {match[1] for match in cut.finditer(maillog)}


class Killer(threading.Thread):
    """Kill the filter at random moments and start it again, until told to stop."""

    def __init__(self, gateway: Gateway, process: WebcryptProcess, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.gateway = gateway
        self.process = process
        self.rng = rng
        self.kills = 0
        self.done = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.done.wait(self.rng.uniform(0.3, 2.0)):
                self.process.kill()
                self.kills += 1
                self.process = self.gateway.filter()
        except BaseException as exc:  # reported by the test
            self.failure = exc


PARALLEL = 10
"""Deliveries Postfix runs to the filter at once: the guide's maxproc of the webcrypt transport
(docs/postfix.md). One kill cuts at most these; each holds at most one mail between the final
dot to the relay and its record (one recipient each), so it duplicates at most this many."""


def test_a_killed_filter_loses_nothing_and_repeats_only_what_was_in_flight(
    tmp_path: Path, mta: PostfixInstance, sink: RecordingSink
) -> None:
    backend = os.environ.get("WEBCRYPT_ONCE_KEYSTORE", "sqlite")
    with contextlib.ExitStack() as stack:
        url = None if backend == "sqlite" else stack.enter_context(fresh_database(backend))
        kill_during_load(tmp_path, mta, sink, url)


def kill_during_load(
    tmp_path: Path, mta: PostfixInstance, sink: RecordingSink, keystore_url: str | None
) -> None:
    gateway = Gateway(tmp_path, keystore_url=keystore_url, config_toml=mta.webcrypt_toml())
    gateway.init()
    rng = random.Random(os.environ.get("WEBCRYPT_ONCE_SEED", "once"))
    try:
        process = gateway.filter()
        for customer in CUSTOMERS:  # accounts and PIN mails before the load
            mta.submit(ADVISER, [customer], mail("WebCrypt welcome", customer, SECRET))
        mta.wait_until_empty(timeout=60)
        sink.wait_for(2 * len(CUSTOMERS))
        for run in range(RUNS):
            sink.clear()
            killer = Killer(gateway, process, rng)
            killer.start()
            queue_ids = submit_all(mta, run, MESSAGES)
            # Let the load flow and the kills land until most of it went through.
            deadline = time.monotonic() + 30 + MESSAGES / 5
            while len(sink.messages) < MESSAGES * 0.9 and time.monotonic() < deadline:
                time.sleep(0.2)
            killer.done.set()
            killer.join(120)
            assert killer.failure is None, f"{killer.failure!r}\n{gateway.logs()}"
            process = killer.process
            if not process.alive():
                process = gateway.filter()
            mta.wait_until_empty(timeout=120 + MESSAGES / 5, flush=True)
            sink.wait_for(MESSAGES, timeout=60)
            time.sleep(1)  # a duplicate would arrive right behind
            numbers = Counter()
            arrived = sort_mail(sink.messages)
            for message in sink.messages:
                match = NUMBER.search(str(message.parsed()["Subject"]))
                assert match, message.parsed()["Subject"]
                numbers[int(match[1])] += 1
                assert message.rcpt_tos == [recipient_of(int(match[1]))]
            twice = sorted(n for n, seen in numbers.items() if seen > 1)
            missing = sorted(set(range(MESSAGES)) - set(numbers))
            cut = cut_after_the_dot(mta.log(), mta.filter_port)
            print(
                f"run {run}: {killer.kills} kills, {len(sink.messages)} mails at the sink, "
                f"{len(twice)} twice {twice}, {len(cut)} deliveries cut after the final dot"
            )
            assert missing == [], f"run {run}, {killer.kills} kills"
            # A mail comes twice only when a kill fell between the relay's acceptance of it
            # and its record: its delivery to the filter was cut after the final dot. A
            # duplicate of any other delivery would be a record missed or not looked up.
            assert [n for n in twice if queue_ids[n] not in cut] == [], f"run {run}: {twice}"
            assert len(twice) <= killer.kills * PARALLEL, f"run {run}, {killer.kills} kills"
            assert all(m.rcpt_tos == [COLLEAGUE] for m in arrived.plain)
            for carrier in arrived.carriers:
                assert SECRET.encode() not in carrier.data
            assert not arrived.pins
    finally:
        gateway.stop()
        (tmp_path / "maillog").write_text(mta.log())  # kept with the filter logs
