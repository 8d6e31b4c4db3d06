"""Header values the gateway writes: RFC 2047 and RFC 5322 conformant, and lossless."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.header import Header

from hypothesis import given, settings
from hypothesis import strategies as st

from webcrypt.mail.compose import address_header, encode_header
from webcrypt.mail.message import decode_text

# Any text but surrogates (bytes that were not UTF-8 are tested on their own below).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
WORDS = st.lists(
    st.sampled_from(["a", "Grüße", "x" * 90, "=?utf-8?q?x?=", "日本", "-"]), max_size=30
)


def parsed(name: str, value: str) -> str:
    data = f"{name}: {value}\r\n\r\n".encode("ascii")
    return str(message_from_bytes(data, policy=policy.default)[name])


def conformant(name: str, value: str) -> None:
    lines = f"{name}: {value}".split("\r\n")
    assert value.isascii()
    assert all(len(line) <= 78 for line in lines), lines
    assert all(line[:1] == " " for line in lines[1:])  # every fold is CRLF + blank
    assert all(line.strip() for line in lines)


@settings(deadline=None)
@given(TEXT)
def test_any_text_round_trips_and_conforms(value: str) -> None:
    encoded = encode_header(value)
    conformant("Subject", encoded)
    expected = " ".join(value.split())
    assert parsed("Subject", encoded) == expected
    assert decode_text(encoded) == expected


@settings(deadline=None)
@given(WORDS)
def test_words_keep_their_spaces(words: list[str]) -> None:
    value = " ".join(words)
    encoded = encode_header(value)
    conformant("Subject", encoded)
    assert parsed("Subject", encoded) == value
    assert decode_text(encoded) == value


@settings(deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60))
def test_short_plain_ascii_is_written_as_it_is(value: str) -> None:
    if "=?" not in value:
        assert encode_header(value) == value


def test_long_subject_without_spaces_is_folded() -> None:
    # email.header.Header cannot fold it: one line of 2,000 characters, which MTAs refuse.
    assert max(map(len, Header("x" * 2000, "us-ascii").encode().split("\n"))) > 998
    encoded = encode_header("x" * 2000)
    conformant("Subject", encoded)
    assert parsed("Subject", encoded) == "x" * 2000


def test_undecodable_bytes_are_read_as_windows_1252() -> None:
    value = b"Gr\xfc\xdfe \x80".decode("utf-8", "surrogateescape")
    assert parsed("Subject", encode_header(value)) == "Grüße €"


def test_literal_encoded_word_text_survives() -> None:
    value = "see =?utf-8?q?x?= here"
    assert parsed("Subject", encode_header(value)) == value


@settings(deadline=None)
@given(TEXT)
def test_display_names_round_trip(name: str) -> None:
    value = address_header(name, "adviser@bank.example")
    conformant("From", value)
    address = message_from_bytes(f"From: {value}\r\n\r\n".encode(), policy=policy.default)[
        "From"
    ].addresses[0]
    assert address.addr_spec == "adviser@bank.example"
    expected = " ".join(name.split())
    # Python's address parser keeps the blanks between a phrase's encoded-words, which
    # RFC 2047 drops (and decode_header does).
    assert "".join(address.display_name.split()) == "".join(expected.split())
    if value.startswith("=?"):
        assert decode_text(value[: value.rindex("<")]) == expected


@settings(deadline=None)
@given(TEXT)
def test_same_text_as_the_smtp_policy_folds_it(value: str) -> None:
    # email.policy.SMTP folds as conformantly, but it reads "=?...?=" in the text it is
    # given as an encoded-word (the text is lost) and needs a whole EmailMessage.
    from email.message import EmailMessage

    if "=?" in value:
        return
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = " ".join(value.split())
    folded = message.as_bytes().split(b"\r\n\r\n")[0].decode("ascii")
    assert parsed("Subject", encode_header(value)) == parsed("Subject", folded[len("Subject: ") :])
