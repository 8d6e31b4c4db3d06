"""Header text decoding: RFC 2047 in any charset, raw UTF-8, legacy bytes, never U+FFFD."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webcrypt.mail.headertext import codec_for, decode_bytes, decode_header_value
from webcrypt.mail.message import decode_text

CASES = [
    ("=?iso-8859-1?q?Fr=F6sche?=", "Frösche"),
    ("=?us-ascii?q?Fr=F6sche?=", "Frösche"),
    ("=?utf-8?q?Fr=F6sche?=", "Frösche"),
    ("=?x-mac-roman?q?Fr=9Asche?=", "Frösche"),
    ("=?utf-8?q?Gr=C3=BC?= =?utf-8?q?=C3=9Fe?=", "Grüße"),
    ("=?utf-8?q?Gr=C3?=\r\n =?utf-8?q?=BC=C3=9Fe?=", "Grüße"),
    ("=?utf-8*de?q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
    ("=?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n aus Berlin", "Grüße aus Berlin"),
    ("=?iso-8859-1?q?Angebot?= f\udcfcr Sie", "Angebot für Sie"),
    ("Re: =?utf-8?q?Angebot?=, Vertrag", "Re: Angebot, Vertrag"),
    ("=?utf-8?b?SWhyIEFuZ2Vib3Q?= vom Montag", "Ihr Angebot vom Montag"),  # padding missing
    ("Fr\udcf6sche \udc80 5", "Frösche € 5"),
    ("Grüße", "Grüße"),
    ("=?utf-8?x?abc?= ok", "=?utf-8?x?abc?= ok"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_decode_text(raw: str, expected: str) -> None:
    assert decode_text(raw) == expected


def test_legacy_bytes_use_the_fallback_charset_before_windows_1252() -> None:
    raw = "Привет".encode("koi8-r")
    assert decode_header_value(raw, fallback_charset="koi8-r") == "Привет"
    assert decode_header_value(raw) == raw.decode("cp1252")


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("UTF-8", "utf-8"),
        ('"iso-8859-1"', "cp1252"),
        ("gb2312", "gb18030"),
        ("utf-8\x00", None),
        ("unicode_escape", None),
        ("rot13", None),
        ("x-unknown", None),
        ("", None),
    ],
)
def test_codec_for(name: str, codec: str | None) -> None:
    assert codec_for(name) == codec


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([None, "utf-8", "koi8-r", "x-bad\x00"]))
def test_any_bytes_decode_without_replacement(data: bytes, fallback: str | None) -> None:
    text = decode_header_value(data, fallback_charset=fallback)
    assert "\ufffd" not in text or "\ufffd".encode() in data
    assert not any("\ud800" <= ch <= "\udfff" for ch in text)
    decoded = decode_bytes(data, "nonsense", fallback)
    assert decoded.encode("utf-8").decode("utf-8") == decoded  # no surrogates either
