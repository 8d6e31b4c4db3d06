"""First contact: a PIN recorded while another delivery held the PIN lease goes out once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keystore.noticelog import NoticeService
from tests.filter.conftest import ADVISER, Harness
from tests.filter.helpers import carriers, pin_mails, rfc5322

CUSTOMER = "new@cust.example"


def message(number: int) -> bytes:
    return rfc5322(
        f"From: {ADVISER}\nTo: {CUSTOMER}\nSubject: WebCrypt offer {number}\n"
        f"Message-ID: <race{number}@bank.example>\n\nOffer {number}.\n"
    )


def test_a_pin_recorded_meanwhile_is_not_sent_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.send(message(1), to=[CUSTOMER])
    assert len(pin_mails(harness.sink.wait_for(2))) == 1
    harness.sink.clear()
    harness.server.delivery.sealer.account_cache.clear()

    # The first look finds no notice, as when the delivery that sent the first PIN had not
    # committed yet; by the time the lease is free, it has.
    was_sent = NoticeService.was_sent
    looks: list[bool] = []

    def first_look_misses(self: NoticeService, kind: str, key: str) -> bool:
        looks.append(True)
        return False if len(looks) == 1 else was_sent(self, kind, key)

    monkeypatch.setattr(NoticeService, "was_sent", first_look_misses)
    harness.send(message(2), to=[CUSTOMER])
    received = harness.sink.wait_for(1)
    assert len(looks) >= 2
    assert len(carriers(received)) == 1
    assert pin_mails(received) == []
    keystore = harness.runtime.keystore
    with keystore.session() as session:
        recipient = keystore.recipients(session).get(CUSTOMER)
        assert recipient is not None
        # The lease was given back: another delivery takes it at once.
        assert keystore.leases(session).acquire(f"pin:{recipient.id}", "next", timedelta(1))
