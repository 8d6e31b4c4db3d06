"""Mails the gateway writes: line ends and transfer encodings of the parts."""

from __future__ import annotations

import html
from email import message_from_bytes, policy

from hypothesis import given
from hypothesis import strategies as st

from webcrypt.mail.compose import MAX_7BIT_LINE, compose, lf_lines, text_part
from webcrypt.smtp.relay import crlf

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
TEXT = st.lists(st.tuples(st.text(max_size=40), LINE_ENDS), max_size=8).map(
    lambda pairs: "".join(a + b for a, b in pairs)
)


def only_crlf(data: bytes) -> bool:
    return data.count(b"\r\n") == data.count(b"\n") == data.count(b"\r")


@given(TEXT)
def test_lf_lines_leaves_no_carriage_return(text: str) -> None:
    result = lf_lines(text)
    assert "\r" not in result
    assert result.count("\n") == text.count("\n") + text.count("\r") - text.count("\r\n")


@given(TEXT, TEXT, TEXT)
def test_composed_mails_end_every_line_in_crlf(subject: str, body: str, reference: str) -> None:
    data = compose(
        sender="a@bank.example",
        to="b@cust.example",
        subject=subject,
        text=body,
        html=f"<p>{html.escape(body)}</p>",
        headers=[("References", f"<a@b>\r\n {reference.strip()}")],
    )
    assert only_crlf(data)
    assert crlf(data) == data  # what the relay may skip for mails marked crlf_only


def test_html_goes_out_7bit_with_character_references() -> None:
    page = "<p>Grüße, Ihr Team – schön, dass Sie da sind 😀</p>\n"
    part = text_part(page, "html")
    headers = dict(part.headers)
    assert headers["Content-Transfer-Encoding"] == "7bit"
    assert headers["Content-Type"] == 'text/html; charset="us-ascii"'
    assert part.body.isascii()
    assert html.unescape(part.body.decode("ascii")) == page.replace("\n", "\r\n")


def test_html_with_an_overlong_line_stays_quoted_printable() -> None:
    page = "<p>" + "ä" * MAX_7BIT_LINE + "</p>"
    part = text_part(page, "html")
    assert dict(part.headers)["Content-Transfer-Encoding"] == "quoted-printable"
    assert max(len(line) for line in part.body.split(b"\r\n")) <= 76
    mail = message_from_bytes(b"".join(part.chunks()), policy=policy.default.clone(linesep="\r\n"))
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == page


def test_plain_text_stays_quoted_printable_and_decodes() -> None:
    text = "Grüße\r\nzweite Zeile\rdritte\n"
    part = text_part(text, "plain")
    assert dict(part.headers)["Content-Transfer-Encoding"] == "quoted-printable"
    mail = message_from_bytes(b"".join(part.chunks()), policy=policy.default)
    assert mail.get_content().replace("\r\n", "\n") == "Grüße\nzweite Zeile\ndritte\n"
