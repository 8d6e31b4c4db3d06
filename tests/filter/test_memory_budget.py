"""The memory budget: messages in flight take at most `filter.memory_budget` bytes together.

A message that does not fit waits briefly, then gets 452 (the MTA retries it); once the
others are done it goes through. A client that declares a SIZE the budget cannot hold is
told at MAIL FROM, before it sends the data. The budget must hold one message of the
largest allowed size, checked when the filter starts.
"""

from __future__ import annotations

import threading

import pytest

from tests.filter.conftest import ADVISER, Harness
from webcrypt.smtp.admission import BudgetTooSmall, MemoryBudget
from webcrypt.smtp.handler import FilterServer

MiB = 1024 * 1024
LIMIT = 10 * MiB  # the default max_message_size setting
BUDGET = int(2.5 * LIMIT) + 4 * MiB  # exactly one message of the largest size


def mail(size: int) -> bytes:
    """A plain (not triggered) mail of about `size` bytes."""
    head = f"From: {ADVISER}\r\nTo: kunde@mail.example\r\nSubject: Unterlagen\r\n\r\n".encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * (size // len(line))


def data_reply(harness: Harness, data: bytes) -> tuple[int, bytes]:
    """Send a message without declaring its size; return the reply to its data."""
    with harness.client() as client:
        client.ehlo()
        assert client.mail(ADVISER)[0] == 250
        assert client.rcpt("kunde@mail.example")[0] == 250
        return client.data(data)


def test_default_budget_follows_the_transaction_slots() -> None:
    assert MemoryBudget.from_config(0, 8).budget == 8 * 29 * MiB
    assert MemoryBudget.from_config(123_456_789, 8).budget == 123_456_789


def test_a_budget_below_one_largest_message_is_a_clear_error() -> None:
    budget = MemoryBudget(BUDGET)
    budget.check(LIMIT)
    with pytest.raises(BudgetTooSmall, match=r"raise filter\.memory_budget to at least"):
        budget.check(LIMIT + 1)
    assert budget.size_limit(LIMIT) == LIMIT
    assert budget.size_limit(4 * LIMIT) == budget.largest <= LIMIT


def test_the_filter_does_not_start_with_a_budget_too_small(make_harness) -> None:
    harness = make_harness()
    harness.settings(max_message_size=LIMIT)
    server = FilterServer(harness.runtime, listen="127.0.0.1:0")
    server.handler.budget = MemoryBudget(BUDGET - 1)
    with pytest.raises(BudgetTooSmall, match="max_message_size setting"):
        server.start()


def test_a_message_waits_for_room_then_gets_452_and_passes_later(make_harness) -> None:
    harness: Harness = make_harness(WEBCRYPT_FILTER_MEMORY_BUDGET=str(BUDGET))
    harness.server.handler.budget_wait = 0.3
    first, second = mail(6 * MiB), mail(6 * MiB)  # each counts 19 MiB of 29 MiB
    harness.sink.stall(30)  # the first one stays in flight until the sink answers
    results: list[object] = []
    sender = threading.Thread(
        target=lambda: results.append(harness.send(first, to=["kunde@mail.example"]))
    )
    sender.start()
    harness.sink.wait_for_attempt()
    assert harness.server.handler.budget.reserved == int(2.5 * len(first)) + 4 * MiB

    code, reply = data_reply(harness, second)
    assert code == 452
    assert b"try again later" in reply

    harness.sink.accept()
    sender.join(30)
    assert results == [{}]
    assert harness.server.handler.budget.reserved == 0
    assert harness.send(second, to=["kunde@mail.example"]) == {}
    received = harness.sink.wait_for(2)
    assert [r.data for r in received] == [first, second]


def test_a_message_that_fits_after_a_short_wait_goes_through(make_harness) -> None:
    harness: Harness = make_harness(WEBCRYPT_FILTER_MEMORY_BUDGET=str(BUDGET))
    harness.server.handler.budget_wait = 30
    first, second = mail(6 * MiB), mail(6 * MiB)
    harness.sink.stall(0.5)  # the first one is answered after half a second
    sender = threading.Thread(target=harness.send, args=(first,), kwargs={"to": ["a@x.example"]})
    sender.start()
    harness.sink.wait_for_attempt()
    assert data_reply(harness, second)[0] == 250
    sender.join(30)
    assert len(harness.sink.wait_for(2)) == 2


def test_a_declared_size_that_does_not_fit_is_refused_at_mail_from(make_harness) -> None:
    harness: Harness = make_harness(WEBCRYPT_FILTER_MEMORY_BUDGET=str(BUDGET))
    harness.server.handler.budget_wait = 0.2
    harness.sink.stall(30)
    first = mail(6 * MiB)
    sender = threading.Thread(target=harness.send, args=(first,), kwargs={"to": ["a@x.example"]})
    sender.start()
    harness.sink.wait_for_attempt()
    with harness.client() as client:
        client.ehlo()
        code, reply = client.mail(ADVISER, [f"SIZE={6 * MiB}"])
        assert code == 452, reply
        code, _ = client.mail(ADVISER, [f"SIZE={MiB}"])  # 6.5 MiB still fit
        assert code == 250
        client.rset()
    harness.sink.accept()
    sender.join(30)
    assert len(harness.sink.wait_for(1)) == 1
