"""The filter's per-recipient LMTP server class on its own, with small handlers."""

from __future__ import annotations

import asyncio

import pytest
from aiosmtpd.controller import Controller

from tests.filter.helpers import lmtp_session, lmtp_transaction
from tests.support.components import free_port
from webcrypt.smtp.server import FilterLMTP, per_recipient


class _Controller(Controller):
    def factory(self):
        return FilterLMTP(self.handler)


class SmallHandler:
    """The handler surface `FilterLMTP` needs, without a filter behind it."""

    gate_wait = 5.0
    busy = 0

    def __init__(self) -> None:
        self.gate = asyncio.Semaphore(1)

    async def handle_exception(self, error):
        return "451 4.3.0 error"


class ListHandler(SmallHandler):
    async def handle_DATA(self, server, session, envelope):
        return [
            "250 2.0.0 ok" if "good" in rcpt else "452 4.2.2 full" for rcpt in envelope.rcpt_tos
        ]


class StringHandler(SmallHandler):
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 same for all"


@pytest.fixture
def serve():
    controllers = []

    def start(handler):
        controller = _Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


MESSAGE = b"Subject: x\r\n\r\nbody\r\n"


def test_one_reply_per_recipient_in_order(serve):
    port = serve(ListHandler())
    replies = lmtp_transaction(port, "a@x.example", ["good1@x", "bad@x", "good2@x"], MESSAGE)
    assert [r[:3] for r in replies] == ["250", "452", "250"]


def test_a_single_reply_is_repeated(serve):
    port = serve(StringHandler())
    replies = lmtp_transaction(port, "a@x.example", ["r1@x", "r2@x"], MESSAGE)
    assert replies == ["250 2.0.0 same for all"] * 2


def test_second_transaction_on_the_same_connection_is_not_confused(serve):
    port = serve(ListHandler())
    first, second = lmtp_session(
        port,
        [("a@x.example", ["good@x"], MESSAGE), ("a@x.example", ["bad@x", "good@x"], MESSAGE)],
    )
    assert [r[:3] for r in first] == ["250"]
    assert [r[:3] for r in second] == ["452", "250"]


def test_per_recipient_pads_and_trims():
    assert per_recipient(["250 a", "250 b", "250 c"], 2) == ["250 a", "250 b"]
    padded = per_recipient(["250 a"], 3)
    assert padded[0] == "250 a" and all(r.startswith("451") for r in padded[1:])
