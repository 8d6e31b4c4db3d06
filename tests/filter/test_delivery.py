"""The delivery contract: 250 only after the relay took everything, otherwise 451."""

from __future__ import annotations

import smtplib
import threading
import time
import urllib.request

import pytest
from prometheus_client import REGISTRY

from keystore.db import Keystore
from tests.filter.conftest import ADVISER
from tests.filter.helpers import PIN_PATTERN, carriers, lmtp_transaction, pin_mails, rfc5322
from tests.support.components import free_port
from tests.support.smtp import RecordingSink

SECRET = "Confidential figures: 1, 2, 3."
OFFER = rfc5322(
    f"From: {ADVISER}\nTo: c@cust.example\nSubject: WebCrypt offer\n"
    f"Message-ID: <d1@bank.example>\n\n{SECRET}\n"
)


def assert_deferred(harness, data=OFFER, to=("c@cust.example",)) -> str:
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(data, to=list(to))
    assert caught.value.smtp_code == 451
    return caught.value.smtp_error.decode()


def test_relay_down_defers_and_the_retry_succeeds(make_harness):
    harness = make_harness()
    harness.sink.stop()
    reason = assert_deferred(harness)
    assert "refused the connection" in reason
    with RecordingSink(port=harness.sink.port) as back:
        harness.send(OFFER, to=["c@cust.example"])
        received = back.wait_for(2)
    assert len(carriers(received)) == 1
    assert SECRET.encode() not in b"".join(r.data for r in received)


def sample(name: str, **labels: str) -> float:
    """The current value of one of the filter's metrics (0 before its first count)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("reply", "code", "temporary", "result"),
    [("451 4.3.0 later", 451, "true", "deferred"), ("554 5.7.1 no", 554, "false", "failed")],
)
def test_relay_refusal_is_passed_on(harness, reply, code, temporary, result):
    failures = sample("webcrypt_filter_relay_failures_total", temporary=temporary)
    recipients = sample("webcrypt_filter_recipients_total", decision=result)
    messages = sample("webcrypt_filter_messages_total", reply=f"{code // 100}xx")
    harness.sink.refuse(reply)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(OFFER, to=["c@cust.example"])
    assert caught.value.smtp_code == code
    assert sample("webcrypt_filter_relay_failures_total", temporary=temporary) == failures + 1
    assert sample("webcrypt_filter_recipients_total", decision=result) == recipients + 1
    assert sample("webcrypt_filter_messages_total", reply=f"{code // 100}xx") == messages + 1
    assert reply.split()[0] in caught.value.smtp_error.decode()
    assert harness.sink.messages == []
    harness.sink.accept()
    harness.send(OFFER, to=["c@cust.example"])
    assert len(carriers(harness.sink.wait_for(1))) == 1


def test_stalled_relay_defers(make_harness):
    harness = make_harness(relay_timeout=1)
    harness.sink.stall(30)
    assert "in time" in assert_deferred(harness)
    harness.sink.accept()


def test_keystore_unavailable_defers_and_relays_nothing(harness, tmp_path):
    harness.runtime.keystore = Keystore(
        f"sqlite:///{tmp_path}/missing/dir/keystore.db",
        master_key=harness.runtime.master_key,
    )
    assert "key store is unavailable" in assert_deferred(harness)
    time.sleep(0.2)
    assert harness.sink.messages == []
    assert harness.sink.attempts == 0


def test_any_exception_is_451_never_500(harness, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(harness.server.delivery.sealer, "plan", broken)
    assert "Temporary error" in assert_deferred(harness)
    monkeypatch.setattr(harness.server.delivery, "deliver", broken)
    assert "Temporary error" in assert_deferred(harness)
    monkeypatch.undo()
    with harness.client() as client:  # the connection is still usable after a 451
        client.sendmail(ADVISER, ["c@cust.example"], OFFER)
    assert harness.sink.messages and SECRET.encode() not in harness.sink.messages[0].data


def test_pin_survives_a_failed_first_attempt(harness):
    harness.sink.refuse("451 4.3.0 later")
    assert_deferred(harness)
    harness.sink.accept()
    harness.send(OFFER, to=["c@cust.example"])
    (pin,) = pin_mails(harness.sink.wait_for(2))
    number = PIN_PATTERN.search(pin.parsed().get_content()).group(1)
    with harness.runtime.keystore.session() as session:
        result = harness.runtime.keystore.recipients(session).authenticate_pin(
            "c@cust.example", number
        )
    assert result.outcome in ("ok", "password_required")


def test_size_limit(make_harness):
    harness = make_harness()
    harness.settings(max_message_size=4096)
    harness.server.stop(drain_timeout=1)
    harness.server.start()
    head = b"From: a@bank.example\r\nTo: c@cust.example\r\nSubject: s\r\n\r\n"
    body = (b"x" * 76 + b"\r\n") * 50
    exact = head + body + b"y" * (4096 - len(head) - len(body) - 2) + b"\r\n"
    assert len(exact) == 4096
    harness.send(exact, to=["c@cust.example"])
    assert harness.sink.wait_for(1)[0].data == exact
    with harness.client() as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "4096"
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:
            client.sendmail("a@bank.example", ["c@cust.example"], exact + b"y\r\n")
        assert caught.value.smtp_code == 552
        assert b"at most 4 KB" in caught.value.smtp_error
        # A client that does not declare the size learns it after DATA.
        client.rset()
        client.mail("a@bank.example")
        client.rcpt("c@cust.example")
        code, text = client.data(exact + b"y\r\n")
    assert code == 552
    assert b"Message too big" in text


def test_lmtp_gives_one_status_per_recipient(make_harness):
    harness = make_harness(protocol="lmtp")
    harness.sink.refuse("550 5.1.1 unknown", at="RCPT", address="bad@cust.example")
    to = ["c@cust.example", "bad@cust.example", "b@bank.example"]
    replies = lmtp_transaction(harness.server.port, ADVISER, to, OFFER)
    assert [r[:3] for r in replies] == ["250", "554", "250"]
    received = harness.sink.messages
    assert [r.rcpt_tos for r in carriers(received)] == [["c@cust.example"]]
    with harness.runtime.keystore.session() as session:
        entries = harness.runtime.keystore.ledger(session).find("d1@bank.example")
    assert len(entries) == 2  # recorded when sealed, before relaying


def test_lmtp_size_refusal_is_repeated_per_recipient(make_harness):
    harness = make_harness(protocol="lmtp")
    harness.settings(max_message_size=1024)
    harness.server.stop(drain_timeout=1)
    harness.server.start()
    replies = lmtp_transaction(
        harness.server.port, ADVISER, ["a@cust.example", "b@cust.example"], OFFER + b"x" * 2000
    )
    assert [r[:3] for r in replies] == ["552", "552"]


def test_stop_drains_transactions_in_flight(harness):
    harness.sink.stall(30)
    outcome: list[object] = []

    def client() -> None:
        # Only the answer to DATA matters: once the transaction is done the connection is
        # idle, and a stopping filter may close it with 421 before the client says QUIT.
        connection = harness.client()
        try:
            outcome.append(connection.sendmail(ADVISER, ["c@cust.example"], OFFER))
        except Exception as exc:
            outcome.append(exc)
        finally:
            connection.close()

    sender = threading.Thread(target=client)
    sender.start()
    deadline = time.monotonic() + 10
    while harness.server.handler.busy == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper = threading.Thread(target=harness.server.stop, kwargs={"drain_timeout": 20})
    stopper.start()

    def refused() -> bool:
        try:
            smtplib.SMTP("127.0.0.1", harness.server.port, timeout=2).close()
        except OSError:
            return True
        return False

    deadline = time.monotonic() + 10
    while not refused() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused(), "a stopping filter must not accept new connections"
    assert sender.is_alive(), f"the transaction in flight ended early: {outcome}"
    harness.sink.accept()
    sender.join(20)
    stopper.join(20)
    assert outcome == [{}]
    assert len(carriers(harness.sink.messages)) == 1


def test_metrics_and_the_log_line(make_harness, caplog):
    port = free_port()
    harness = make_harness(WEBCRYPT_FILTER_METRICS_LISTEN=f"127.0.0.1:{port}")
    pins, answered = (
        sample("webcrypt_filter_pins_total"),
        sample("webcrypt_filter_messages_total", reply="2xx"),
    )
    with caplog.at_level("INFO", logger="webcrypt.smtp.handler"):
        harness.send(OFFER, to=["c@cust.example", "b@bank.example"])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("message ")]
    assert len(lines) == 1
    assert "sender_domain=bank.example recipients=2" in lines[0]
    assert "plain:1" in lines[0] and "sealed+pin:1" in lines[0]
    assert "cust.example" not in lines[0]
    sent = sum(len(r.data) for r in harness.sink.wait_for(3))
    assert f" sent={sent} " in lines[0] and lines[0].endswith(" reply=2xx")
    assert sample("webcrypt_filter_pins_total") == pins + 1
    assert sample("webcrypt_filter_messages_total", reply="2xx") == answered + 1
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'webcrypt_filter_recipients_total{decision="sealed+pin"}' in text
    assert "webcrypt_filter_transaction_seconds_bucket" in text


def test_run_serves_until_sigterm(harness):
    import os
    import signal

    from webcrypt.smtp.handler import run

    harness.server.stop(drain_timeout=1)
    seen = []

    def ready(server):
        seen.append(server.port)
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            client.sendmail(ADVISER, ["c@cust.example"], OFFER)
        os.kill(os.getpid(), signal.SIGTERM)

    run(harness.runtime, ready=ready)
    assert seen and len(carriers(harness.sink.wait_for(2))) == 1


def test_starts_without_keystore_and_defers(tmp_path):
    from keystore.masterkey import MasterKey
    from webcrypt.config.loader import load_config
    from webcrypt.runtime import Runtime
    from webcrypt.smtp.handler import FilterServer

    env = {
        "WEBCRYPT_GENERAL_DATA_DIR": str(tmp_path),
        "WEBCRYPT_KEYSTORE_URL": f"sqlite:///{tmp_path}/missing/keystore.db",
        "WEBCRYPT_FILTER_RELAY": f"smtp://127.0.0.1:{free_port()}",
        "WEBCRYPT_FILTER_INTERNAL_DOMAINS": "bank.example",
    }
    runtime = Runtime(load_config(None, environ=env), master_key=MasterKey.generate())
    server = FilterServer(runtime, listen="127.0.0.1:0")
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            client.ehlo()
            client.mail(ADVISER)
            client.rcpt("c@cust.example")
            code, text = client.data(OFFER)
        assert code == 451
        assert b"key store" in text
    finally:
        server.stop(drain_timeout=1)
        runtime.close()


def test_size_limit_follows_the_admin_setting_without_restart(harness):
    harness.settings(max_message_size=2048)
    deadline = time.monotonic() + 10
    size = ""
    while time.monotonic() < deadline and size != "2048":
        with harness.client() as client:
            client.ehlo()
            size = client.esmtp_features.get("size", "")
        time.sleep(0.05)
    assert size == "2048"


def test_smtp_stops_at_the_first_failure(harness):
    harness.sink.refuse("550 5.1.1 unknown", at="RCPT", address="bad@cust.example")
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(OFFER, to=["bad@cust.example", "c@cust.example"])
    assert caught.value.smtp_code == 554
    assert b"550 5.1.1" in caught.value.smtp_error
    assert harness.sink.messages == []


def test_smtp_after_a_failure_no_pin_counts_as_sent(harness):
    """Nothing after the first refusal is sent, so no PIN may be recorded as mailed."""
    to = ["bad@cust.example", "c@cust.example", "d@cust.example"]
    harness.sink.refuse("451 4.3.0 later", at="RCPT", address="bad@cust.example")
    assert_deferred(harness, to=to)
    assert harness.sink.messages == []
    harness.sink.accept()
    harness.send(OFFER, to=to)
    received = harness.sink.wait_for(6)
    assert len(carriers(received)) == 3
    assert len(pin_mails(received)) == 3


def test_lmtp_a_mail_that_cannot_be_built_fails_alone(make_harness, monkeypatch):
    from webcrypt.smtp import sealer

    harness = make_harness(protocol="lmtp")
    build_carrier = sealer.carrier_for

    def fails_for_one(*args, address, **kwargs):
        if address == "bad@cust.example":
            raise ValueError("cannot handle this")
        return build_carrier(*args, address=address, **kwargs)

    monkeypatch.setattr(sealer, "carrier_for", fails_for_one)
    to = ["bad@cust.example", "c@cust.example"]
    replies = lmtp_transaction(harness.server.port, ADVISER, to, OFFER)
    assert replies[0].startswith("554 5.6.0 The gateway cannot encrypt this message"), replies
    assert "(ValueError)" in replies[0]
    assert replies[1].startswith("250 "), replies
    assert [r.rcpt_tos for r in carriers(harness.sink.wait_for(2))] == [["c@cust.example"]]


def test_a_long_relay_refusal_is_cut_to_300_characters(harness):
    harness.sink.refuse("554 5.7.1 " + "x" * 400)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        harness.send(OFFER, to=["c@cust.example"])
    assert caught.value.smtp_code == 554
    reason = caught.value.smtp_error.decode().split("Could not pass the message on: ", 1)[1]
    assert len(reason) == 300 and "refused the message: 554 5.7.1 xxx" in reason
