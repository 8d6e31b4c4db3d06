"""Every corpus message through the real filter and the real portal, compared with the input.

Three checks per message:

* ``plain``: not triggered, it reaches the sink byte for byte as it was sent;
* ``sealed``: triggered, the filter answers 250, nothing of its content is in clear at the
  sink, every line it wrote is RFC 5322-conformant, and the decrypted message is the input
  except for the documented rewrites (tests/corpus/oracle.py, `compare_inner`);
* ``internal``: triggered, with a colleague in the bank as a second recipient: the copy
  for the colleague is the input, or the input with only the documented rewrites;
* ``portal``: the carrier opened in the portal shows every text part and the decoded
  headers, offers every other part byte-identical, never answers 500, and its .eml download
  is the decrypted message.

Messages tagged ``limits`` may instead be refused at SMTP time with a 5xx that says why.
"""

from __future__ import annotations

import re

import pytest

from tests.corpus.build import ADVISER, CUSTOMER, Spec, catalogue
from tests.corpus.oracle import (
    PARTNER,
    SECURE,
    Gateway,
    Reply,
    assert_carrier_subject,
    assert_no_plaintext,
    assert_reading,
    assert_rfc5322_lines,
    compare_inner,
    read_through_portal,
    wire,
)
from tests.filter.helpers import carriers, open_carrier

KNOWN_FAILURES: dict[str, str] = {}
"""Checks that fail on today's code, by test id, with the defect that makes them fail
(the numbers of the defect list in docs/fidelity.md); none at present.

Strict: a check that starts passing fails until its entry is removed here.
"""

SPECS = catalogue()
CHECKS = ("plain", "sealed", "internal", "portal")
COLLEAGUE = "kollege@bank.example"


def _params() -> list[object]:
    params = []
    for spec in SPECS:
        for check in CHECKS:
            test_id = f"{spec.name}-{check}"
            marks = []
            if test_id in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[test_id], strict=True))
            params.append(pytest.param(spec, check, id=test_id, marks=marks))
    return params


def _seal(gateway: Gateway, spec: Spec, sent: bytes, *also: str) -> Reply | None:
    """Send `spec` triggered; None when a limit refused it at SMTP time (allowed for those)."""
    rcpt = SECURE if spec.trigger == "envelope" else CUSTOMER
    reply = gateway.send(sent, mail_from=ADVISER, rcpt_tos=[rcpt, *also])
    if "limits" in spec.tags and 500 <= reply.code < 600:
        assert len(reply.text.split()) >= 3, f"a refusal without a reason: {reply.text!r}"
        assert reply.received == []
        return None
    assert reply.code == 250, f"{reply.code} {reply.text}"
    return reply


_FROM_FIELD = re.compile(
    rb"^From:[^\r\n]*(\r\n|\n|\r)(?:[ \t][^\r\n]*(?:\r\n|\n|\r))*", re.I | re.M
)


def as_adviser(raw: bytes) -> bytes:
    """Return `raw` with the adviser in its top-level From: field, as the adviser sends it.

    The filter seals only mail whose From: names the envelope sender's mailbox (the PIN goes
    there); a few shapes (delivery reports, read receipts) arrive from someone else, and an
    adviser passes them on from their own mailbox.
    """
    head_end = re.search(rb"(\r\n|\n|\r)(\r\n|\n|\r)", raw)
    head = raw[: head_end.start() + 1] if head_end else raw
    field = _FROM_FIELD.search(head)
    if field is None or ADVISER.encode() in field.group(0):
        return raw
    line_end = field.group(1)
    return raw[: field.start()] + b"From: " + ADVISER.encode() + line_end + raw[field.end() :]


@pytest.mark.parametrize(("spec", "check"), _params())
def test_corpus(gateway: Gateway, spec: Spec, check: str) -> None:
    sent = wire(spec.raw)
    if check == "plain":
        sender = ADVISER if spec.trigger == "envelope" else PARTNER
        reply = gateway.send(sent, mail_from=sender, rcpt_tos=[CUSTOMER])
        assert reply.code == 250, f"{reply.code} {reply.text}"
        (relayed,) = reply.received
        assert relayed.rcpt_tos == [CUSTOMER]
        assert relayed.data == sent, "the untriggered message changed on its way"
        return
    sent = as_adviser(sent)
    reply = _seal(gateway, spec, sent, *([COLLEAGUE] if check == "internal" else []))
    if reply is None:
        return
    if check == "internal":
        (copy,) = [r for r in reply.received if r.rcpt_tos == [COLLEAGUE]]
        if copy.data != sent:
            compare_inner(spec, sent, copy.data)
        return
    (carrier,) = carriers(reply.received)
    subject = spec.subject_after if spec.subject_after is not None else spec.subject
    inner = open_carrier(gateway.runtime, carrier)
    if check == "sealed":
        assert_carrier_subject(carrier, subject)
        assert_no_plaintext(spec, sent, reply.received)
        assert_rfc5322_lines(reply.received)
        compare_inner(spec, sent, inner)
        return
    reading = read_through_portal(gateway, carrier)
    assert_reading(spec, reading, inner, subject)
