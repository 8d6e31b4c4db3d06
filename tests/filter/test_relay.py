"""The relay client and the outbox sink, against a real recording sink on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from contextlib import closing

import pytest
from aiosmtpd.smtp import AuthResult

from tests.support.components import free_port
from tests.support.smtp import RecordingSink, self_signed_tls
from webcrypt.smtp.relay import OutboxRelay, RelayError, SMTPRelay, crlf, open_relay

MESSAGE = b"From: a@bank.example\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n.dot line\r\n"


@pytest.fixture
def sink():
    with RecordingSink() as running:
        yield running


def relay_all(sink, mail_from: str, rcpt_tos: list[str], *messages: bytes) -> None:
    """Send `messages` to the sink over one relay, then close it."""
    with closing(open_relay(sink.url, timeout=5)) as relay:
        for data in messages:
            relay.send(data, mail_from=mail_from, rcpt_tos=rcpt_tos)


def test_sends_and_reuses_the_connection(sink):
    with closing(open_relay(sink.url, timeout=5)) as relay:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com", "c@example.com"])
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["d@example.com"])
    first, second = sink.wait_for(2)
    assert first.data == MESSAGE
    assert first.rcpt_tos == ["b@example.com", "c@example.com"]
    assert first.peer == second.peer


def test_the_final_dot_is_not_held_back_for_an_ack(sink):
    """TCP_NODELAY: the relay has the mail, and answers, without waiting for our ACK timer."""
    with closing(open_relay(sink.url, timeout=5)) as relay:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        (connection, _), *_ = relay._idle
        assert connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_async_send(sink):
    with closing(open_relay(sink.url, timeout=5)) as relay:
        asyncio.run(relay.send_async(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@x.example"]))
    assert sink.wait_for(1)[0].rcpt_tos == ["b@x.example"]


def test_bare_line_feeds_become_crlf(sink):
    relay_all(sink, "a@b.example", ["c@d.example"], b"Subject: x\n\nline\nline\r\n")
    assert sink.wait_for(1)[0].data == b"Subject: x\r\n\r\nline\r\nline\r\n"
    assert crlf(b"a\r\nb\r\n") == b"a\r\nb\r\n"


def test_smtputf8_addresses(sink):
    data = "Subject: ü\r\n\r\nkörper\r\n".encode()
    relay_all(sink, "jürgen@bank.example", ["zoë@exämple.com"], data)
    received = sink.wait_for(1)[0]
    assert received.rcpt_tos == ["zoë@exämple.com"]
    assert "SMTPUTF8" in received.mail_options
    assert "BODY=8BITMIME" in received.mail_options


@pytest.mark.parametrize(
    ("reply", "temporary"), [("451 4.3.0 later", True), ("554 5.7.1 no", False)]
)
def test_refused_data(sink, reply, temporary):
    sink.refuse(reply)
    relay = open_relay(sink.url, timeout=5)
    with pytest.raises(RelayError) as caught:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
    relay.close()
    assert caught.value.temporary is temporary
    assert reply.split()[0] in caught.value.reason
    assert sink.messages == []


def test_one_refused_recipient_sends_nothing(sink):
    sink.refuse("550 5.1.1 unknown", at="RCPT", address="c@example.com")
    relay = open_relay(sink.url, timeout=5)
    with pytest.raises(RelayError) as caught:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com", "c@example.com"])
    assert not caught.value.temporary
    sink.accept()
    relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
    relay.close()
    assert [m.rcpt_tos for m in sink.wait_for(1)] == [["b@example.com"]]


def test_relay_down_is_temporary():
    relay = open_relay(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(RelayError) as caught:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
    assert caught.value.temporary
    assert "refused the connection" in caught.value.reason


def test_stalled_relay_times_out(sink):
    sink.stall(30)
    relay = open_relay(sink.url, timeout=0.5)
    with pytest.raises(RelayError) as caught:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
    relay.close()
    assert caught.value.temporary
    assert "in time" in caught.value.reason


def test_pooled_connection_closed_by_server_is_replaced(sink):
    relay = open_relay(sink.url, timeout=5)
    assert isinstance(relay, SMTPRelay)
    relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
    for conn, _ in relay._idle:
        conn.sock.close()  # the server side sees the connection go away
    relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["c@example.com"])
    relay.close()
    assert len(sink.wait_for(2)) == 2


def test_starttls_and_auth(tmp_path):
    context, cert = self_signed_tls(str(tmp_path))
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"secret", handled=False)

    with RecordingSink(
        tls_context=context, require_starttls=True, authenticator=authenticator
    ) as s:
        good = open_relay(f"{s.url}?starttls=1&user=relay&password=secret&cafile={cert}", timeout=5)
        good.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        good.close()
        bad = open_relay(f"{s.url}?starttls=1&user=relay&password=wrong&verify=0", timeout=5)
        with pytest.raises(RelayError) as caught:
            bad.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        plain = open_relay(s.url, timeout=5)
        with pytest.raises(RelayError):
            plain.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        assert len(s.wait_for(1)) == 1
    assert "login" in caught.value.reason
    assert logins[0] == (b"relay", b"secret")


def test_outbox_writes_one_synced_file(tmp_path):
    relay = open_relay(f"outbox:{tmp_path / 'out'}", timeout=5)
    assert isinstance(relay, OutboxRelay)
    relay.send(b"Subject: x\n\nbody\n", mail_from="a@bank.example", rcpt_tos=["b@x.example"])
    asyncio.run(relay.send_async(MESSAGE, mail_from="a@bank.example", rcpt_tos=["c@x.example"]))
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 2
    first = files[0].read_bytes()
    assert first.startswith(b"Return-Path: <a@bank.example>\r\nX-Envelope-To: b@x.example\r\n")
    assert first.endswith(b"Subject: x\r\n\r\nbody\r\n")
    assert not any(name.name.startswith(".") for name in files)


def test_outbox_failure_is_temporary(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    os.chmod(blocked, stat.S_IRUSR | stat.S_IXUSR)
    relay = OutboxRelay(blocked / "sub")
    if os.geteuid() == 0:
        relay = OutboxRelay("/proc/no-such-outbox")
    with pytest.raises(RelayError) as caught:
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@x.example"])
    assert caught.value.temporary


def test_bad_urls():
    with pytest.raises(ValueError):
        open_relay("http://example.com", timeout=1)
    with pytest.raises(ValueError):
        open_relay("outbox:", timeout=1)


def test_lmtp_sink_answers_per_recipient():
    from tests.filter.helpers import lmtp_transaction

    with RecordingSink(lmtp=True) as lmtp_sink:
        replies = lmtp_transaction(lmtp_sink.port, "a@x.example", ["b@x", "c@x"], MESSAGE)
        assert [r[:3] for r in replies] == ["250", "250"]
        lmtp_sink.refuse("452 4.2.2 full")
        replies = lmtp_transaction(lmtp_sink.port, "a@x.example", ["b@x", "c@x"], MESSAGE)
        assert [r[:3] for r in replies] == ["452", "452"]
        assert len(lmtp_sink.messages) == 1


def test_utf8_headers_ask_for_smtputf8(sink):
    utf8 = "From: Jürgen <a@bank.example>\r\nSubject: x\r\n\r\nbody\r\n".encode()
    relay_all(sink, "a@bank.example", ["b@x.example"], utf8, MESSAGE)
    first, second = sink.wait_for(2)
    assert "SMTPUTF8" in first.mail_options
    assert "SMTPUTF8" not in second.mail_options


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("lmtp://mail.example:24", "use smtp://host:port or outbox:DIR"),
        ("smtp://", "use smtp://host:port or outbox:DIR"),
        ("outbox:", "outbox: needs a directory"),
    ],
)
def test_unusable_relay_url_is_refused_with_the_forms_that_work(url, says):
    with pytest.raises(ValueError, match=says):
        open_relay(url, timeout=5)


def test_pipelines_the_envelope_when_offered():
    with RecordingSink(pipelining=True) as sink:
        relay_all(sink, "a@bank.example", ["b@example.com", "c@example.com"], MESSAGE, MESSAGE)
        first, second = sink.wait_for(2)
    assert first.data == second.data == MESSAGE
    assert first.rcpt_tos == ["b@example.com", "c@example.com"]
    assert first.peer == second.peer


@pytest.mark.parametrize(
    ("at", "address", "what"),
    [("RCPT", "c@example.com", "recipient"), ("DATA", None, "message")],
)
def test_pipelined_refusal_sends_nothing_and_the_next_mail_goes_out(at, address, what):
    with RecordingSink(pipelining=True) as sink:
        sink.refuse("550 5.1.1 unknown", at=at, address=address)
        relay = open_relay(sink.url, timeout=5)
        with pytest.raises(RelayError) as caught:
            relay.send(
                MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com", "c@example.com"]
            )
        assert not caught.value.temporary
        assert f"refused the {what}: 550" in caught.value.reason
        sink.accept()
        relay.send(MESSAGE, mail_from="a@bank.example", rcpt_tos=["b@example.com"])
        relay.close()
        assert [m.rcpt_tos for m in sink.wait_for(1)] == [["b@example.com"]]
