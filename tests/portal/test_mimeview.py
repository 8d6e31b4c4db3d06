"""What the read page shows and offers, opened through the real portal from sealed envelopes.

Every text part is shown, every other part downloads byte-identical, header fields are
decoded as a person reads them, and no input gives an HTTP 500.
"""

from __future__ import annotations

import base64
import html
import os
import quopri
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.portal.helpers import csrf_token, seal

HEAD = (
    b"From: Berta Berater <berater@bank.example>\r\nTo: kunde@example.com\r\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0100\r\nMessage-ID: <m1@bank.example>\r\n"
    b"MIME-Version: 1.0\r\n"
)


def mail(headers: bytes, body: bytes) -> bytes:
    """A message with the usual header fields plus `headers`, then `body`."""
    return HEAD + headers + b"\r\n" + body


class Reader:
    """Open one sealed message in the portal and download its parts."""

    def __init__(self, client: FlaskClient, runtime: Any, raw: bytes) -> None:
        self.client = client
        self.armored = seal(runtime, raw).armored
        token = csrf_token(client.get("/").data)
        self.response = client.post("/read", data={"csrf_token": token, "envelope": self.armored})
        self.token = csrf_token(self.response.data) if self.response.status_code == 200 else token

    @property
    def page(self) -> str:
        return self.response.get_data(as_text=True)

    def download(self, part: str) -> Any:
        return self.client.post(
            "/download", data={"csrf_token": self.token, "envelope": self.armored, "part": part}
        )


Read = Callable[[bytes, bytes], Reader]


@pytest.fixture
def read(logged_in: FlaskClient, runtime: Any) -> Read:
    """Open a message of the usual header fields plus `headers`, then `body`, in the reader."""
    return lambda headers, body: Reader(logged_in, runtime, mail(headers, body))


def shown(page: str) -> str:
    """The page with the HTML frames' documents unescaped (what the reader sees)."""
    return html.unescape(page)


def test_plain_beside_html_in_mixed_both_shown(read: Read) -> None:
    reader = read(
        b'Subject: Beides\r\nContent-Type: multipart/mixed; boundary="b"\r\n',
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nErster Teil im Klartext\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Zweiter Teil in HTML</p>\r\n"
        b"--b--\r\n",
    )
    assert reader.response.status_code == 200
    page = shown(reader.page)
    assert "Erster Teil im Klartext" in page and "Zweiter Teil in HTML" in page
    assert page.index("Erster Teil") < page.index("Zweiter Teil")
    assert "attachment-1" not in page


def test_alternative_shows_only_the_html(read: Read) -> None:
    reader = read(
        b'Subject: Alt\r\nContent-Type: multipart/alternative; boundary="a"\r\n',
        b"--a\r\nContent-Type: text/plain\r\n\r\nNur Text Fassung\r\n"
        b"--a\r\nContent-Type: text/html\r\n\r\n<p>HTML Fassung</p>\r\n--a--\r\n",
    )
    page = shown(reader.page)
    assert "HTML Fassung" in page and "Nur Text Fassung" not in page
    assert "attachment-" not in page


def test_inline_text_parts_are_shown(read: Read) -> None:
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(40)
    reader = read(
        b'Subject: Apple\r\nContent-Type: multipart/mixed; boundary="m"\r\n',
        b"--m\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nVor dem Bild\r\n"
        b"--m\r\nContent-Type: image/png; name=bild.png\r\n"
        b"Content-Disposition: inline; filename=bild.png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(png) + b"\r\n"
        b"--m\r\nContent-Type: text/plain; charset=us-ascii\r\n"
        b"Content-Disposition: inline\r\n\r\nNach dem Bild\r\n--m--\r\n",
    )
    page = reader.page
    assert "Vor dem Bild" in page and "Nach dem Bild" in page
    assert "attachment-3" not in page and "bild.png" in page
    assert reader.download("2").data == png


def test_text_with_a_file_name_stays_an_attachment(read: Read) -> None:
    reader = read(
        b'Subject: Datei\r\nContent-Type: multipart/mixed; boundary="m"\r\n',
        b"--m\r\nContent-Type: text/plain\r\n\r\nDer Text\r\n"
        b"--m\r\nContent-Type: text/plain; name=notiz.txt\r\n"
        b"Content-Disposition: attachment; filename=notiz.txt\r\n\r\nInhalt der Datei\r\n"
        b"--m--\r\n",
    )
    assert "notiz.txt" in reader.page and "Inhalt der Datei" not in reader.page
    assert reader.download("2").data == b"Inhalt der Datei"


MESSAGE_PARTS = {
    "message/delivery-status": b"Reporting-MTA: dns; mx.example\r\n\r\n"
    b"Final-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n",
    "message/disposition-notification": b"Reporting-UA: mail.example\r\n"
    b"Final-Recipient: rfc822;kunde@example.com\r\nDisposition: manual-action/MDN-sent-manually;"
    b" displayed\r\n",
    "message/external-body": b"Content-Type: application/pdf\r\nContent-ID: <x@y>\r\n\r\n",
    "message/global": b"From: a@example.com\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\n\r\n"
    b"K\xc3\xb6rper\r\n",
    "message/rfc822": b"From: a@example.com\r\nSubject:  two  spaces\r\n"
    b"Content-Type: text/plain\r\n\r\nInner body\r\n\r\n",
    "message/partial": b"Content-Type: text/plain\r\n\r\nStueck 1\r\n",
}


@pytest.mark.parametrize("kind", sorted(MESSAGE_PARTS))
def test_message_parts_download_byte_identical(read: Read, kind: str) -> None:
    inner = MESSAGE_PARTS[kind]
    reader = read(
        b'Subject: Bericht\r\nContent-Type: multipart/report; boundary="r"\r\n',
        b"--r\r\nContent-Type: text/plain\r\n\r\nZustellbericht\r\n"
        b"--r\r\nContent-Type: " + kind.encode() + b"\r\n\r\n" + inner + b"\r\n--r--\r\n",
    )
    assert reader.response.status_code == 200 and "Zustellbericht" in reader.page
    response = reader.download("2")
    assert response.status_code == 200
    assert response.data == inner


def test_base64_message_global_downloads_decoded(read: Read) -> None:
    inner = b"From: a@example.com\r\nSubject: \xe2\x82\xac\r\n\r\nBody \xf0\x9f\x98\x80\r\n"
    reader = read(
        b'Subject: Global\r\nContent-Type: multipart/mixed; boundary="g"\r\n',
        b"--g\r\nContent-Type: text/plain\r\n\r\nSiehe Anhang\r\n"
        b"--g\r\nContent-Type: message/global\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(inner)
        + b"--g--\r\n",
    )
    assert reader.download("2").data == inner


def test_outlook_unquoted_boundary(read: Read) -> None:
    reader = read(
        b"Subject: Outlook\r\nContent-Type: multipart/alternative;\r\n"
        b"\tboundary=----=_NextPart_000_0012_01D5A1B2.3C4D5E60\r\n",
        b"This is a multi-part message in MIME format.\r\n\r\n"
        b"------=_NextPart_000_0012_01D5A1B2.3C4D5E60\r\n"
        b'Content-Type: text/plain;\r\n\tcharset="iso-8859-1"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nSehr geehrte Frau M=FCller\r\n\r\n"
        b"------=_NextPart_000_0012_01D5A1B2.3C4D5E60--\r\n",
    )
    assert reader.response.status_code == 200
    assert "Sehr geehrte Frau Müller" in reader.page


@pytest.mark.parametrize(
    "charset",
    [b'"utf-8\x00"', b"x-garbage\x00\x01", b'"\xff\xfe"', b"utf-8'de'", b"unicode_escape"],
)
def test_garbage_charset(read: Read, charset: bytes) -> None:
    reader = read(
        b"Subject: Zeichensatz\r\nContent-Type: text/plain; charset=" + charset + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n",
        "Grüße aus Köln\r\n".encode(),
    )
    assert reader.response.status_code == 200
    assert "Grüße aus Köln" in reader.page


def test_rfc2231_encoded_charset(read: Read) -> None:
    reader = read(
        b"Subject: Zeichensatz\r\nContent-Type: text/plain; charset*=us-ascii''iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n",
        "Grüße aus Köln\r\n".encode("iso-8859-1"),
    )
    assert reader.response.status_code == 200
    assert "Grüße aus Köln" in reader.page


def test_eight_bit_name_in_content_type(read: Read) -> None:
    content = os.urandom(500)
    reader = read(
        b'Subject: Anhang\r\nContent-Type: multipart/mixed; boundary="n"\r\n',
        b"--n\r\nContent-Type: text/plain\r\n\r\nAnbei\r\n"
        b'--n\r\nContent-Type: application/pdf; name="R\xe9sum\xe9 \x80.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(content) + b"--n--\r\n",
    )
    assert reader.response.status_code == 200
    assert "Résumé €.pdf" in reader.page
    response = reader.download("2")
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["Content-Type"] == "application/pdf"
    assert (
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%82%AC.pdf"
        in (response.headers["Content-Disposition"])
    )


def test_eight_bit_content_type_downloads_as_octet_stream(read: Read) -> None:
    reader = read(
        b'Subject: Typ\r\nContent-Type: multipart/mixed; boundary="n"\r\n',
        b"--n\r\nContent-Type: text/plain\r\n\r\nAnbei\r\n"
        b"--n\r\nContent-Type: appl\xe9cation/x\xff; name=a.bin\r\n\r\nDATEN\r\n--n--\r\n",
    )
    assert reader.response.status_code == 200
    response = reader.download("2")
    assert response.status_code == 200 and response.data == b"DATEN"
    assert response.headers["Content-Type"] == "application/octet-stream"


def nested(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--n%d--" % i for i in reversed(range(depth)))
    return opening + b"Content-Type: text/plain\r\n\r\nGanz innen" + closing + b"\r\n"


def test_deep_nesting_is_no_server_error(logged_in: FlaskClient, runtime) -> None:
    reader = Reader(logged_in, runtime, HEAD + b"Subject: Tief\r\n" + nested(1200))
    assert reader.response.status_code < 500
    if reader.response.status_code == 200:  # unless a limit refuses it with a clear page
        assert "Ganz innen" in reader.page


def test_deep_nesting_needs_no_recursion() -> None:
    from portal.mimeview import build_view

    view = build_view(HEAD + b"Subject: Tief\r\n" + nested(3000))
    assert [body.content for body in view.bodies] == ["Ganz innen"]


SUBJECTS = [
    (b"=?iso-8859-1?q?Fr=F6sche?=", "Frösche"),
    (b"=?ISO-8859-15?Q?Preis_5_=A4?=", "Preis 5 €"),
    (b"=?windows-1252?Q?=93Angebot=94?=", "“Angebot”"),
    (b"=?koi8-r?B?8NLJ18XU?=", "Привет"),
    (b"=?iso-2022-jp?B?GyRCRnxLXDhsGyhC?=", "日本語"),
    (b"=?gb2312?B?1tDOxA==?=", "中文"),
    (b"=?utf-8?q?Gr=C3=BC?= =?utf-8?q?=C3=9Fe?=", "Grüße"),
    (b"=?utf-8?q?Gr=C3?=\r\n =?utf-8?q?=BC=C3=9Fe?=", "Grüße"),
    (b"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n aus Berlin", "Grüße aus Berlin"),
    (b"Vertrag =?utf-8?q?f=C3=BCr?= Sie", "Vertrag für Sie"),
    (b"Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln", "Grüße aus Köln"),
    (b"Fr\xf6sche \x80 5", "Frösche € 5"),
    (b"=?x-unknown?q?abc?=", "abc"),
    (b"=?us-ascii?q?Fr=F6sche?=", "Frösche"),
    (b"=?utf-8?q?Fr=F6sche?=", "Frösche"),
    (b"=?x-mac-roman?q?Fr=9Asche?=", "Frösche"),
    (b"Re: =?utf-8?q?Angebot?=, Vertrag", "Re: Angebot, Vertrag"),
    (b"=?iso-8859-1?q?Angebot?= f\xfcr Sie", "Angebot für Sie"),
    (b"=?utf-8?x?abc?= ok", "=?utf-8?x?abc?= ok"),
]


@pytest.mark.parametrize(("raw_subject", "expected"), SUBJECTS)
def test_subject_decoding(
    logged_in: FlaskClient, runtime, raw_subject: bytes, expected: str
) -> None:
    raw = mail(b"Subject: " + raw_subject + b"\r\nContent-Type: text/plain\r\n", b"Text\r\n")
    reader = Reader(logged_in, runtime, raw)
    assert reader.response.status_code == 200
    assert html.escape(expected, quote=False) in reader.page
    assert "\ufffd" not in reader.page


def test_legacy_header_bytes_use_the_message_charset(read: Read) -> None:
    # KOI8-R bytes are valid windows-1252 too: the message's own charset must come first.
    reader = read(
        b"Subject: \xf0\xd2\xc9\xd7\xc5\xd4\r\nCc: \xf0\xc5\xd4\xd2 <petr@example.com>\r\n"
        b"Content-Type: text/plain; charset=koi8-r\r\n",
        b"\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
    )
    page = reader.page
    assert '<h1 id="subject">Привет</h1>' in page
    assert "Петр &lt;petr@example.com&gt;" in page


def test_encoded_sender_and_recipients(logged_in: FlaskClient, runtime) -> None:
    raw = (
        b"From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <juergen@bank.example>\r\n"
        b"To: =?utf-8?b?w4RybmU=?= <kunde@example.com>\r\n"
        b'Cc: "Zo\xc3\xab" <zoe@bank.example>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0100\r\n'
        b"Subject: x\r\n\r\nText\r\n"
    )
    page = Reader(logged_in, runtime, raw).page
    assert "Jürgen Müller &lt;juergen@bank.example&gt;" in page
    assert "Ärne &lt;kunde@example.com&gt;" in page
    assert "&#34;Zoë&#34; &lt;zoe@bank.example&gt;" in page or '"Zoë"' in page


def test_unrenderable_part_gets_a_line_and_stays_downloadable(
    read: Read, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portal.mimeview

    def broken(*_args: Any) -> Any:
        raise ValueError("cannot sanitize")

    monkeypatch.setattr(portal.mimeview, "clean_html", broken)
    reader = read(
        b'Subject: Kaputt\r\nContent-Type: multipart/mixed; boundary="k"\r\n',
        b"--k\r\nContent-Type: text/plain\r\n\r\nLesbarer Teil\r\n"
        b"--k\r\nContent-Type: text/html\r\n\r\n<p>Kaputter Teil</p>\r\n--k--\r\n",
    )
    assert reader.response.status_code == 200
    assert "Lesbarer Teil" in reader.page
    assert "This part could not be shown; download it." in reader.page
    assert 'form="message-actions" name="part" value="2"' in reader.page
    assert reader.download("2").data == b"<p>Kaputter Teil</p>"


def test_unrenderable_part_line_in_german(logged_in: FlaskClient, runtime, monkeypatch) -> None:
    import portal.mimeview

    monkeypatch.setattr(portal.mimeview, "_text", lambda *_args: 1 / 0)
    raw = mail(b"Subject: x\r\nContent-Type: text/plain\r\n", b"Text\r\n")
    armored = seal(runtime, raw).armored
    token = csrf_token(logged_in.get("/").data)
    response = logged_in.post(
        "/read",
        data={"csrf_token": token, "envelope": armored},
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 200
    assert "Dieser Teil kann nicht angezeigt werden; laden Sie ihn herunter." in (
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: CR only\rContent-Type: text/plain\r\rZeile eins\rZeile zwei\r",
        b"Subject: \xb4!\nTo: \xb4google@example.com\n\nK\xf6rper mit \x00 NUL\n",
        b"Subject: no blank line\r\nBody follows directly\r\n",
        b"",
    ],
)
def test_whole_message_as_eml_is_byte_identical(logged_in: FlaskClient, runtime, raw) -> None:
    reader = Reader(logged_in, runtime, raw)
    assert reader.response.status_code == 200
    response = reader.download("eml")
    assert response.status_code == 200 and response.data == raw


def test_qp_text_attachment_decoded(read: Read) -> None:
    data = "Zeile mit Umlaut ä\r\n".encode("latin-1") * 3
    reader = read(
        b'Subject: qp\r\nContent-Type: multipart/mixed; boundary="q"\r\n',
        b"--q\r\nContent-Type: text/plain\r\n\r\nText\r\n"
        b"--q\r\nContent-Type: text/csv; charset=iso-8859-1; name=daten.csv\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quopri.encodestring(data)
        + b"\r\n--q--\r\n",
    )
    response = reader.download("2")
    assert response.data == data
    assert response.headers["Content-Type"] == "text/csv; charset=iso-8859-1"


@pytest.mark.parametrize(
    "content_type",
    [b"multipart/mixed", b'multipart/mixed; boundary="nirgends"', b"multipart/alternative; x=1"],
)
def test_multipart_without_parts_is_shown_as_text(read: Read, content_type: bytes) -> None:
    reader = read(
        b"Subject: Ohne Grenze\r\nContent-Type: " + content_type + b"\r\n", b"Hallo Welt\r\n"
    )
    assert reader.response.status_code == 200
    assert '<pre class="mail-text">Hallo Welt' in reader.page
    assert reader.download("1").data == b"Hallo Welt\r\n"
