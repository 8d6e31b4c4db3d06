"""Header values for mails the gateway writes: the short-cut agrees with email.header."""

from __future__ import annotations

from email.header import Header

from hypothesis import given
from hypothesis import strategies as st

from webcrypt.notices import encode_header


def by_email_header(value: str) -> str:
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name="Subject").encode(linesep="\r\n")


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
def test_plain_ascii_is_encoded_like_email_header_does(value: str) -> None:
    assert encode_header(value) == by_email_header(value)


@given(st.text(max_size=90))
def test_any_text_is_encoded_like_email_header_does(value: str) -> None:
    assert encode_header(value) == by_email_header(value)


def test_examples() -> None:
    assert encode_header("Unterlagen") == "Unterlagen"
    assert encode_header("Grüße").startswith("=?utf-8?")
    assert encode_header("=?utf-8?q?x?=") == by_email_header("=?utf-8?q?x?=")
    assert "\r\n " in encode_header("word " * 30)
