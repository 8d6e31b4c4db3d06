"""`webcrypt filter --workers 2`: two processes on one port, drained by SIGTERM, restarted
when one dies. Real SMTP on loopback: smtplib clients, the filter, a recording sink."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import smtplib
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import ADVISER, Gateway, mail
from tests.e2e.processes import WebcryptProcess
from tests.support.components import free_port
from tests.support.smtp import RecordingSink

pytestmark = pytest.mark.slow

CUSTOMER = "kunde@example.com"
STARTED = re.compile(r"filter worker (\d) started \(pid (\d+)\)")


class Workers:
    """A gateway whose filter runs two workers, each with its own /metrics port."""

    def __init__(self, root: Path, sink: RecordingSink) -> None:
        self.port = free_port()
        self.metrics = free_port()
        # worker 1 serves /metrics on the next port: make sure nothing else takes it
        while self.metrics + 1 == self.port:
            self.metrics = free_port()
        self.gateway = Gateway(
            root,
            relay_url=sink.url,
            WEBCRYPT_FILTER_WORKERS="2",
            WEBCRYPT_FILTER_METRICS_LISTEN=f"127.0.0.1:{self.metrics}",
        )
        self.gateway.init()
        self.process: WebcryptProcess = self.gateway.filter(self.port)
        self.wait_for(lambda: len(self.started()) >= 2, "two workers")

    def started(self) -> dict[int, int]:
        """The pid of each worker slot, as the log says (the latest start of each)."""
        return {int(slot): int(pid) for slot, pid in STARTED.findall(self.process.log())}

    def answered(self, slot: int) -> int:
        """How many messages worker `slot` has answered with 2xx (its /metrics)."""
        url = f"http://127.0.0.1:{self.metrics + slot}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        found = re.search(r'^webcrypt_filter_messages_total\{reply="2xx"\} (\S+)$', text, re.M)
        return int(float(found[1])) if found else 0

    def send(self, subject: str) -> str:
        """Send one message on a connection of its own; return the reply to its data ("250"
        or the error).

        What comes after the data's 250 does not change it: a draining filter may answer the
        QUIT with 421 or close the connection first.
        """
        try:
            client = smtplib.SMTP("127.0.0.1", self.port, timeout=60)
        except (OSError, smtplib.SMTPException) as exc:
            return repr(exc)
        try:
            client.sendmail(ADVISER, [CUSTOMER], mail(subject, CUSTOMER))
        except (OSError, smtplib.SMTPException) as exc:
            return repr(exc)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
            client.close()
        return "250"

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.process.log()}")
            time.sleep(0.05)


@pytest.fixture
def sink() -> Iterator[RecordingSink]:
    with RecordingSink() as recording:
        yield recording


@pytest.fixture
def workers(tmp_path: Path, sink: RecordingSink) -> Iterator[Workers]:
    running = Workers(tmp_path, sink)
    try:
        yield running
    finally:
        running.gateway.stop()


def subjects(sink: RecordingSink) -> list[str]:
    """The subjects of the carriers at the sink (the filter drops the trigger word)."""
    return sorted(
        f"WebCrypt {message.parsed()['Subject']}"
        for message in sink.messages
        if message.rcpt_tos == [CUSTOMER]
    )


def test_both_workers_serve(workers: Workers, sink: RecordingSink) -> None:
    count = 60
    replies = [workers.send(f"WebCrypt {number}") for number in range(count)]
    assert replies == ["250"] * count
    sink.wait_for(count)
    by_worker = [workers.answered(0), workers.answered(1)]
    assert sum(by_worker) == count
    assert min(by_worker) > 0, by_worker
    assert subjects(sink) == sorted(f"WebCrypt {number}" for number in range(count))


def test_sigterm_drains_every_accepted_message(workers: Workers, sink: RecordingSink) -> None:
    sink.stall(2.0)  # each relayed message takes a while: SIGTERM lands mid-flight
    count = 12
    replies: dict[str, str] = {}

    def send(subject: str) -> None:
        replies[subject] = workers.send(subject)

    threads = [
        threading.Thread(target=send, args=(f"WebCrypt {number}",)) for number in range(count)
    ]
    for thread in threads:
        thread.start()
    workers.wait_for(lambda: sink.attempts >= 2, "messages in flight")
    in_flight = sink.attempts
    workers.process.signal(signal.SIGTERM)
    status = workers.process.wait(90)
    for thread in threads:
        thread.join(60)
    log = workers.process.log()
    assert status == 0, log
    accepted = sorted(subject for subject, reply in replies.items() if reply == "250")
    # Every message in flight at SIGTERM was finished and acknowledged; nothing acknowledged
    # is missing at the sink, and nothing arrived twice.
    assert len(accepted) >= in_flight, (replies, log)
    assert subjects(sink) == accepted, (replies, log)
    assert log.count("stopped") == 3  # each worker, then the parent
    assert "Traceback" not in log


def test_a_killed_worker_is_restarted(workers: Workers, sink: RecordingSink) -> None:
    first = workers.started()
    os.kill(first[1], signal.SIGKILL)
    workers.wait_for(lambda: workers.started()[1] != first[1], "worker 1 started again")
    log = workers.process.log()
    assert f"filter worker 1 (pid {first[1]}) was killed by SIGKILL; starting a new one" in log
    assert workers.started()[0] == first[0]  # the other worker went on serving
    count = 30
    assert [workers.send(f"WebCrypt {number}") for number in range(count)] == ["250"] * count
    sink.wait_for(count)
    workers.wait_for(lambda: workers.answered(1) > 0, "the new worker 1 to serve")
    assert workers.process.alive()
