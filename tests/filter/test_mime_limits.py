"""MIME limits: one linear scan, the same structure Python's parser sees, enforced early."""

from __future__ import annotations

import email.feedparser
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.filter.conftest import ADVISER
from tests.filter.helpers import carriers, lmtp_transaction, smtp_transaction
from webcrypt.mail.mimelimits import MimeLimitError, MimeLimits, check

LIMITS = MimeLimits()


def nested(depth: int, *, kind: str = "multipart", line_end: str = "\r\n") -> bytes:
    """A message whose text part sits `depth` levels deep."""
    levels = range(depth - 1, -1, -1)
    if kind == "multipart":
        opening = [f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in levels]
        closing = [f"\n--b{i}--\n" for i in reversed(levels)]
    else:
        opening, closing = ["Content-Type: message/rfc822\n\n"] * depth, []
    leaf = "Content-Type: text/plain\n\ninnermost\n"
    return "".join(["Subject: x\n", *opening, leaf, *closing]).replace("\n", line_end).encode()


def flat(parts: int, boundary: str = "----=_NextPart_000_0001") -> bytes:
    """A multipart/mixed message with `parts` text parts (plus itself: parts + 1 entities)."""
    body = "".join(f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n{i}\r\n" for i in range(parts))
    return (
        f"Subject: x\r\nContent-Type: multipart/mixed; boundary={boundary}\r\n\r\n"
        f"{body}--{boundary}--\r\n"
    ).encode()


def parser_view(raw: bytes) -> tuple[int, int]:
    """Entities and deepest nesting as Python's email parser sees them."""
    message = message_from_bytes(raw, policy=policy.compat32)
    count, deepest, todo = 0, 0, [(message, 0)]
    while todo:
        entity, depth = todo.pop()
        count += 1
        deepest = max(deepest, depth)
        payload = entity.get_payload()
        if isinstance(payload, list):
            todo.extend((child, depth + 1) for child in payload)
    return count, deepest


def test_real_shapes_pass() -> None:
    check(nested(40), LIMITS)
    check(nested(40, kind="message"), LIMITS)
    check(flat(998), LIMITS)  # 999 entities
    check(b"Subject: x\r\n\r\n" + b"y" * 2_000_000 + b"\r\n", LIMITS)  # 2 MB single line
    references = "References: " + "\r\n ".join(f"<r{i}@x.example>" for i in range(2000))
    check(f"{references}\r\nSubject: x\r\n\r\nbody\r\n".encode(), LIMITS)


@pytest.mark.parametrize("kind", ["multipart", "message"])
@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
def test_depth(kind: str, line_end: str) -> None:
    check(nested(50, kind=kind, line_end=line_end), LIMITS)
    with pytest.raises(MimeLimitError) as refused:
        check(nested(51, kind=kind, line_end=line_end), LIMITS)
    assert refused.value.limit == "max_depth"
    assert "more than 50 levels deep" in str(refused.value)
    assert "limits.max_depth" in str(refused.value)


def test_parts() -> None:
    check(flat(999), LIMITS)  # 1000 entities
    with pytest.raises(MimeLimitError, match=r"more than 1000 MIME parts.*limits\.max_parts"):
        check(flat(1000), LIMITS)


def test_unquoted_outlook_boundary_is_taken_whole() -> None:
    # Cut at the "=", the boundary would be "----": no part would be found at all.
    raw = flat(5, boundary="----=_NextPart_000_0001_01D9A1B2.3C4D5E60")
    assert parser_view(raw)[0] == 6
    with pytest.raises(MimeLimitError):
        check(raw, MimeLimits(max_parts=5))


def test_header_block_and_field() -> None:
    big_field = b"X-Big: " + b"a" * (64 * 1024) + b"\r\n"
    with pytest.raises(MimeLimitError, match="header field longer than 65536"):
        check(big_field + b"\r\nbody\r\n", LIMITS)
    folded = b"X-Folded: a" + b"\r\n a" * 30_000 + b"\r\n"
    with pytest.raises(MimeLimitError, match="max_line_length"):
        check(folded + b"\r\nbody\r\n", LIMITS)
    many = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 60) for i in range(5000))
    with pytest.raises(MimeLimitError, match="header block larger than 262144"):
        check(many + b"\r\nbody\r\n", LIMITS)
    inner = b"--b\r\n" + many + b"\r\nx\r\n--b--\r\n"
    with pytest.raises(MimeLimitError, match="max_header_bytes"):
        check(b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + inner, LIMITS)


def test_no_recursion_and_no_parser(monkeypatch) -> None:
    calls = []
    original = email.feedparser.FeedParser.feed
    monkeypatch.setattr(
        email.feedparser.FeedParser, "feed", lambda *a: calls.append(a) or original(*a)
    )
    for kind in ("multipart", "message"):
        deep = nested(5_000, kind=kind)  # far deeper than Python's recursion limit
        check(deep, MimeLimits(max_depth=5_000, max_parts=10**6))
        with pytest.raises(MimeLimitError, match="max_depth"):
            check(deep, LIMITS)
    with pytest.raises(MimeLimitError, match="max_parts"):
        check(flat(60_000), LIMITS)
    check(flat(60_000), MimeLimits(max_parts=100_000))
    assert calls == []


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> str:
    """A MIME entity (LF line ends) with nested multiparts and attached messages."""
    kind = draw(st.sampled_from(["leaf", "multipart", "message"] if depth < 5 else ["leaf"]))
    if kind == "leaf":
        # Hyphens in text: the scan passes single dashes before it searches for two.
        hyphens = "a-b -\n-c " * draw(st.sampled_from([1, 9, 40]))
        leaf = draw(st.sampled_from(["x\n", "--x\n", "", hyphens, hyphens + "\n--x\n"]))
        return "Content-Type: text/plain\n\n" + leaf
    if kind == "message":
        return "Content-Type: message/rfc822\n\nSubject: inner\n" + draw(trees(depth + 1))
    boundary = draw(st.sampled_from(["b", "----=_NextPart_0", "x y", "b--"])) + str(depth)
    children = draw(st.lists(trees(depth + 1), max_size=4))
    quoted = f'"{boundary}"' if " " in boundary or draw(st.booleans()) else boundary
    body = "".join(f"--{boundary}\n{child}\n" for child in children)
    closing = f"--{boundary}--\n" if draw(st.booleans()) else ""
    return f"Content-Type: multipart/mixed; boundary={quoted}\n\npreamble\n{body}{closing}"


@settings(deadline=None, max_examples=200)
@given(trees(), st.sampled_from(["\n", "\r\n", "\r"]))
def test_the_scan_sees_what_the_parser_sees(tree: str, line_end: str) -> None:
    raw = ("Subject: x\n" + tree).replace("\n", line_end).encode()
    parts, depth = parser_view(raw)
    check(raw, MimeLimits(max_parts=parts, max_depth=depth))
    with pytest.raises(MimeLimitError, match="max_parts"):
        check(raw, MimeLimits(max_parts=parts - 1, max_depth=depth))
    if depth:
        with pytest.raises(MimeLimitError, match="max_depth"):
            check(raw, MimeLimits(max_parts=parts, max_depth=depth - 1))


# -- in the filter ------------------------------------------------------------------------


def test_triggered_mail_over_a_limit_is_refused_at_smtp_time(harness):
    data = b"From: adviser@bank.example\r\nTo: c@cust.example\r\nX-WebCrypt: encrypt\r\n"
    data += nested(60)
    _, reply = smtp_transaction(
        harness.server.port, ADVISER.encode(), [b"c@cust.example", b"b@bank.example"], data
    )
    assert reply.startswith("552 5.3.4 "), reply
    assert "more than 50 levels deep" in reply and "limits.max_depth" in reply
    assert harness.sink.messages == []


def test_hostile_triggered_mail_with_60000_parts_is_refused(harness):
    data = b"From: adviser@bank.example\r\nX-WebCrypt: encrypt\r\n" + flat(60_000)
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [b"c@cust.example"], data)
    assert reply.startswith("552 5.3.4 "), reply
    assert "more than 1000 MIME parts" in reply
    assert harness.sink.messages == []


def test_untriggered_mail_is_never_checked(harness):
    data = b"From: adviser@bank.example\r\n" + flat(60_000)
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [b"c@cust.example"], data)
    assert reply.startswith("250"), reply
    assert harness.sink.wait_for(1)[0].data == data


def test_limits_come_from_the_configuration(make_harness):
    harness = make_harness(WEBCRYPT_LIMITS_MAX_PARTS="3")
    data = b"From: adviser@bank.example\r\nX-WebCrypt: encrypt\r\n" + flat(3)
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [b"c@cust.example"], data)
    assert reply.startswith("552 5.3.4 ") and "more than 3 MIME parts" in reply, reply
    data = b"From: adviser@bank.example\r\nX-WebCrypt: encrypt\r\n" + flat(2)
    _, reply = smtp_transaction(harness.server.port, ADVISER.encode(), [b"c@cust.example"], data)
    assert reply.startswith("250"), reply
    assert len(carriers(harness.sink.wait_for(2))) == 1


def test_over_lmtp_every_recipient_gets_the_reason(make_harness):
    harness = make_harness(protocol="lmtp")
    data = b"From: adviser@bank.example\r\nX-WebCrypt: encrypt\r\n" + flat(1000)
    replies = lmtp_transaction(
        harness.server.port, ADVISER, ["c@cust.example", "b@bank.example"], data
    )
    assert len(replies) == 2
    assert all(r.startswith("552 5.3.4 ") and "limits.max_parts" in r for r in replies), replies
    assert harness.sink.messages == []
