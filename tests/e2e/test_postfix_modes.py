"""The guide's LMTP variant and its size advice, against a real Postfix.

LMTP gives one status per recipient: a recipient the relay refuses for now is
retried alone, and the others are not sent twice. The size limit in main.cf
must leave room for the carrier of the largest message WebCrypt accepts.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import ADVISER, COLLEAGUE, Gateway, mail, sort_mail
from tests.support.postfix import PostfixInstance, doc_snippets
from tests.support.smtp import RecordingSink

pytestmark = [pytest.mark.postfix, pytest.mark.slow]

ANNA, BERT = "anna@example.com", "bert@example.net"
SECRET = "Portfolio review: confidential."
MIB = 1024 * 1024


@pytest.fixture
def lmtp_mta(sink: RecordingSink) -> Iterator[PostfixInstance]:
    """Postfix with the guide's LMTP blocks."""
    with PostfixInstance(relay_port=sink.port, variant="lmtp") as instance:
        yield instance


def lmtp_gateway(root: Path, mta: PostfixInstance, **settings: str) -> Gateway:
    """WebCrypt speaking LMTP, configured by the guide's webcrypt.toml otherwise."""
    gateway = Gateway(
        root, config_toml=mta.webcrypt_toml(), WEBCRYPT_FILTER_PROTOCOL="lmtp", **settings
    )
    gateway.init()
    return gateway


def test_lmtp_seals_many_recipients_in_one_delivery(
    tmp_path: Path, lmtp_mta: PostfixInstance, sink: RecordingSink
) -> None:
    gateway = lmtp_gateway(tmp_path, lmtp_mta)
    try:
        gateway.filter()
        recipients = [ANNA, BERT, COLLEAGUE]
        lmtp_mta.submit(ADVISER, recipients, mail("WebCrypt review", ", ".join(recipients), SECRET))
        lmtp_mta.wait_until_empty()
        arrived = sort_mail(sink.wait_for(5))
        assert sorted(c.rcpt_tos[0] for c in arrived.carriers) == [ANNA, BERT]
        assert [p.rcpt_tos for p in arrived.plain] == [[COLLEAGUE]]
        assert len(arrived.pins) == 2
        # One delivery to the filter carried all three recipients.
        assert re.search(r"recipients=3\b", gateway.logs())
    finally:
        gateway.stop()


def test_lmtp_retries_only_the_recipient_that_failed(
    tmp_path: Path, lmtp_mta: PostfixInstance, sink: RecordingSink
) -> None:
    gateway = lmtp_gateway(tmp_path, lmtp_mta, WEBCRYPT_FILTER_RELAY=sink.url)
    try:
        gateway.filter()
        for customer in (ANNA, BERT):
            lmtp_mta.submit(ADVISER, [customer], mail("WebCrypt hello", customer, SECRET))
        lmtp_mta.wait_until_empty()
        sink.wait_for(4)
        sink.clear()

        sink.refuse("451 4.3.0 Mailbox busy", at="RCPT", address=BERT)
        lmtp_mta.submit(ADVISER, [ANNA, BERT], mail("WebCrypt both", f"{ANNA}, {BERT}", SECRET))
        (deferred,) = lmtp_mta.wait_deferred(1)
        assert [r["address"] for r in deferred["recipients"]] == [BERT]
        assert [m.rcpt_tos for m in sink.wait_for(1)] == [[ANNA]]

        sink.accept()
        lmtp_mta.wait_until_empty(timeout=60, flush=True)
        sink.wait_for(2)
        time.sleep(0.5)
        assert sorted(m.rcpt_tos[0] for m in sink.messages) == [ANNA, BERT]
        assert all(SECRET.encode() not in m.data for m in sink.messages)
    finally:
        gateway.stop()


def large_mail(size: int, to: str) -> bytes:
    """A mail with an incompressible attachment of about `size` bytes in all."""
    attachment = base64.encodebytes(os.urandom(size * 3 // 4 - 2000)).replace(b"\n", b"\r\n")
    head = (
        f"From: Adviser <{ADVISER}>\r\nTo: <{to}>\r\nSubject: WebCrypt scans\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nThe scans.\r\n"
        "--b\r\nContent-Type: application/pdf; name=scan.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode() + attachment + b"--b--\r\n"


def test_size_limit_leaves_room_for_the_carrier(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    setting = re.search(r"message_size_limit = (\d+)", doc_snippets()["main.cf"])
    assert setting is not None
    limit = int(setting[1])
    gateway.filter()
    original = large_mail(int(9.5 * MIB), ANNA)
    mta.submit(ADVISER, [ANNA], original)
    mta.wait_until_empty(timeout=60)
    arrived = sort_mail(sink.wait_for(2, timeout=60))
    (carrier,) = arrived.carriers_to(ANNA)
    assert len(original) < len(carrier.data) < limit
    assert len(carrier.data) / len(original) < 1.4


def test_message_over_the_gateway_limit_bounces_with_a_reason(
    mta: PostfixInstance, gateway: Gateway, sink: RecordingSink
) -> None:
    gateway.filter()
    mta.submit(ADVISER, [ANNA], large_mail(11 * MIB, ANNA))
    mta.wait_until_empty(timeout=60)
    (bounce,) = sink.wait_for(1, timeout=30)
    time.sleep(0.5)
    assert len(sink.messages) == 1
    assert bounce.rcpt_tos == [ADVISER]
    # The filter announces its limit (EHLO SIZE); Postfix bounces without sending the body.
    text = " ".join(bounce.data.decode(errors="replace").split())
    assert "Status: 5.3.4" in text
    assert re.search(r"message size \d+ exceeds size limit 10485760", text)
    assert "The scans." not in text
