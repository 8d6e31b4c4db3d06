"""Each rule on messages built from literal RFC 5322 text, and the header rewriting."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webcrypt.mail.message import MailMessage, strip_secure
from webcrypt.smtp.rules import (
    header_trigger,
    internal_sender,
    secure_suffix,
    subject_trigger,
    thread_trigger,
)
from webcrypt.smtp.rules import registry as rules
from webcrypt.smtp.rules.rulecontext import Context
from webcrypt.smtp.rules.subject_trigger import remove_trigger
from webcrypt.smtp.sealer import rewritten_header

BANK = frozenset({"bank.example"})


def ctx(mail_from="adviser@bank.example", rcpt_tos=("c@cust.example",), word="WebCrypt"):
    return Context(
        mail_from=mail_from, rcpt_tos=tuple(rcpt_tos), trigger_word=word, internal_domains=BANK
    )


def msg(text: str) -> MailMessage:
    return MailMessage(text.replace("\n", "\r\n").encode("utf-8"))


def test_registry_has_every_rule_with_a_description():
    assert set(rules.RULES) == {
        "subject-trigger",
        "secure-suffix",
        "header-trigger",
        "thread-trigger",
        "internal-sender",
    }
    for name, rule in rules.RULES.items():
        assert rule.name == name
        assert rule.description
    assert set(rules.TRIGGERS) <= set(rules.RULES)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("WebCrypt offer", True),
        ("offer webcrypt", True),
        ("Re: [WEBCRYPT] offer", True),
        ("offer (WebCrypt)", True),
        ("WebCrypt: offer", True),
        ("WebCrypto offer", False),
        ("myWebCrypt offer", False),
        ("Web Crypt", False),
        ("", False),
    ],
)
def test_subject_trigger_is_a_whole_word_in_any_case(subject, expected):
    message = msg(f"From: a@bank.example\nSubject: {subject}\n\nbody\n")
    assert subject_trigger.check(message, ctx()) is expected


def test_subject_trigger_in_an_encoded_subject():
    message = msg("Subject: =?utf-8?q?Angebot_=C3=BCber_WebCrypt?=\n\nx\n")
    assert message.subject == "Angebot über WebCrypt"
    assert subject_trigger.check(message, ctx())


def test_subject_trigger_follows_the_configured_word():
    message = msg("Subject: [secure] offer\n\nx\n")
    assert not subject_trigger.check(message, ctx())
    assert subject_trigger.check(message, ctx(word="secure"))
    assert not subject_trigger.check(message, ctx(word=""))


@pytest.mark.parametrize(
    ("subject", "cleaned"),
    [
        ("WebCrypt offer", "offer"),
        ("Re: [WebCrypt] offer", "Re: offer"),
        ("offer (webcrypt)", "offer"),
        ("WebCrypt: offer for you", "offer for you"),
        ("offer WebCrypt now", "offer now"),
        ("WebCrypto stays", "WebCrypto stays"),
    ],
)
def test_remove_trigger(subject, cleaned):
    assert remove_trigger(subject, "WebCrypt") == cleaned


def test_secure_suffix_in_the_envelope_or_the_headers():
    plain = msg("To: c@cust.example\nSubject: x\n\nbody\n")
    assert not secure_suffix.check(plain, ctx())
    assert secure_suffix.check(plain, ctx(rcpt_tos=["c@cust.example#secure"]))
    assert secure_suffix.check(plain, ctx(rcpt_tos=["c@cust.example#SECURE"]))
    in_header = msg('To: "C" <c@cust.example#secure>, d@cust.example\nSubject: x\n\nbody\n')
    assert secure_suffix.check(in_header, ctx())
    assert in_header.header_recipients == ["c@cust.example#secure", "d@cust.example"]


def test_secure_suffix_only_in_the_recipient_headers_counts():
    upper = msg("To: c@cust.example#SECURE\nSubject: x\n\nbody\n")
    assert secure_suffix.check(upper, ctx())
    elsewhere = msg("To: c@cust.example\nX-Note: write #secure after it\nSubject: x\n\n#secure\n")
    assert not secure_suffix.check(elsewhere, ctx())
    assert strip_secure("<c@cust.example#Secure>") == "<c@cust.example>"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("X-WebCrypt: encrypt", True),
        ("X-WebCrypt:  ENCRYPT ", True),
        ("Sensitivity: Company-Confidential", True),
        ("Sensitivity: Personal", False),
        ("X-WebCrypt: no", False),
    ],
)
def test_header_trigger(header, expected):
    assert header_trigger.check(msg(f"{header}\nSubject: x\n\nbody\n"), ctx()) is expected


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("adviser@bank.example", True),
        ("Adviser@BANK.example", True),
        ("someone@other.example", False),
        ("", False),
        ("adviser@sub.bank.example", False),
    ],
)
def test_internal_sender(sender, expected):
    assert internal_sender.check(msg("Subject: x\n\n"), ctx(mail_from=sender)) is expected


def test_matching_triggers_lists_every_match():
    message = msg("X-WebCrypt: encrypt\nTo: c@cust.example#secure\nSubject: WebCrypt\n\nx\n")
    assert rules.matching_triggers(message, ctx()) == [
        "subject-trigger",
        "secure-suffix",
        "header-trigger",
    ]


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """The header block and the body as the filter reads them."""
    message = MailMessage(raw)
    return message.header_block, message.body


def test_split_message_keeps_every_byte():
    for raw in (b"A: 1\r\n\r\nbody", b"A: 1\n\nbody\n", b"A: 1\r\n", b"\r\nbody", b""):
        head, body = split_message(raw)
        assert head + body == raw


def rewrite(message: MailMessage, *, message_id: str | None) -> bytes:
    """The whole message as the filter seals it: the rewritten header block, then the body."""
    header = rewritten_header(message, trigger_word="WebCrypt", message_id=message_id)
    return header + message.body


def test_rewrite_touches_only_subject_and_recipient_fields():
    raw = (
        b"From: Ann <adviser@bank.example>\r\n"
        b'To: "C" <c@cust.example#secure>,\r\n d@cust.example#Secure\r\n'
        b"Cc: e@bank.example\r\n"
        b"Subject: =?utf-8?q?WebCrypt_=C3=BCber?= offer\r\n"
        b"X-Other: keep #secure here\r\n"
        b"\r\n"
        b"Body mentions WebCrypt and x@y#secure.\r\n"
    )
    out = rewrite(MailMessage(raw), message_id=None)
    head, body = split_message(out)
    assert body == b"\r\nBody mentions WebCrypt and x@y#secure.\r\n"
    assert b"#secure" not in head.split(b"X-Other")[0].lower()
    assert b"X-Other: keep #secure here\r\n" in head
    rewritten = MailMessage(out)
    assert rewritten.subject == "über offer"
    assert rewritten.header_recipients == ["c@cust.example", "d@cust.example", "e@bank.example"]


def test_rewrite_adds_a_missing_message_id():
    out = rewrite(msg("Subject: x\n\nbody\n"), message_id="n@b")
    assert MailMessage(out).message_id == "n@b"


def test_garbage_headers_do_not_raise():
    message = MailMessage(b"Subject: =?bogus?x?@@?=\r\nTo: <<<@@>>>, ,\r\n\xff\xfe: x\r\n\r\n")
    assert isinstance(message.subject, str)
    assert isinstance(message.header_recipients, list)
    rewrite(message, message_id=None)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"A: 1", b"Subject: x", b" folded", b"\tfolded", b"no colon", b"", b"b:", b"X y: z"]
        ),
        max_size=8,
    ),
    st.lists(st.sampled_from([b"\r\n", b"\n", b"\r"]), min_size=8, max_size=8),
    st.binary(max_size=50),
)
def test_split_agrees_with_pythons_parser(lines, ends, body):
    raw = b"".join(line + end for line, end in zip(lines, ends, strict=False)) + body
    head, rest = split_message(raw)
    assert head + rest == raw
    parsed = message_from_bytes(raw, policy=policy.compat32)
    payload = parsed.get_payload(decode=True)  # the body's bytes (no transfer encoding)
    assert isinstance(payload, bytes)
    # Python's parser drops the blank line that ends the header block; the split keeps it.
    blank = re.match(rb"\r\n|\r|\n", rest)
    expected = rest[blank.end() :] if blank else rest
    assert payload == expected


PORTAL_MAILS = {"r1.abc@portal.bank.example": "c@cust.example"}
"""Message-IDs sent from the portal, and by whom (what the keystore would answer)."""


def thread_ctx(rcpt_tos=("c@cust.example",), on=True, asked=None):
    def portal_senders(ids):
        if asked is not None:
            asked.append(list(ids))
        return {PORTAL_MAILS[i] for i in ids if i in PORTAL_MAILS}

    return Context(
        mail_from="adviser@bank.example",
        rcpt_tos=tuple(rcpt_tos),
        internal_domains=BANK,
        thread_trigger=on,
        portal_senders=portal_senders,
    )


ANSWER = """From: Ann Adviser <adviser@bank.example>
To: Chris Customer <c@cust.example>
Subject: Re: my question
Message-ID: <a1@bank.example>
{thread}

Here is the answer.
"""


@pytest.mark.parametrize(
    ("thread", "rcpt_tos", "expected"),
    [
        ("In-Reply-To: <r1.abc@portal.bank.example>", ("c@cust.example",), True),
        (
            "References: <x0@bank.example>\n <r1.abc@portal.bank.example>",
            ("c@cust.example",),
            True,
        ),
        ("In-Reply-To: <r1.abc@portal.bank.example>", ("C@Cust.Example#secure",), True),
        ("In-Reply-To: <r1.abc@portal.bank.example>", ("other@cust.example",), False),
        ("In-Reply-To: <r1.abc@portal.bank.example>", ("colleague@bank.example",), False),
        ("In-Reply-To: <elsewhere@cust.example>", ("c@cust.example",), False),
        ("In-Reply-To: r1.abc@portal.bank.example", ("c@cust.example",), False),
        ("X-Other: 1", ("c@cust.example",), False),
    ],
)
def test_thread_trigger(thread, rcpt_tos, expected):
    message = msg(ANSWER.format(thread=thread))
    assert thread_trigger.check(message, thread_ctx(rcpt_tos)) is expected


def test_thread_trigger_can_be_switched_off_and_asks_nothing_then():
    asked: list[list[str]] = []
    message = msg(ANSWER.format(thread="In-Reply-To: <r1.abc@portal.bank.example>"))
    assert thread_trigger.check(message, thread_ctx(on=False, asked=asked)) is False
    assert asked == []


def test_thread_trigger_asks_only_without_another_trigger_and_without_keystore_for_plain_mail():
    asked: list[list[str]] = []
    plain = msg(ANSWER.format(thread="X-Other: 1"))
    assert rules.matching_triggers(plain, thread_ctx(asked=asked)) == []
    assert asked == []
    marked = msg(ANSWER.format(thread="In-Reply-To: <r1.abc@portal.bank.example>"))
    marked_with_word = msg(
        ANSWER.format(thread="In-Reply-To: <r1.abc@portal.bank.example>").replace(
            "Re: my question", "Re: my question WebCrypt"
        )
    )
    assert rules.matching_triggers(marked_with_word, thread_ctx(asked=asked)) == ["subject-trigger"]
    assert asked == []
    assert rules.matching_triggers(marked, thread_ctx(asked=asked)) == ["thread-trigger"]
    assert asked == [["r1.abc@portal.bank.example"]]


def test_thread_trigger_looks_up_a_bounded_number_of_references():
    many = " ".join(f"<id{i}@cust.example>" for i in range(500))
    message = msg(ANSWER.format(thread=f"In-Reply-To: <first@x.example>\nReferences: {many}"))
    ids = thread_trigger.referenced_ids(message)
    assert ids[0] == "first@x.example" and len(ids) <= thread_trigger.MAX_REFERENCES + 1
    assert "id499@cust.example" in ids
