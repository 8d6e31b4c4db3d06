"""Opening and reading: the three ways in, each refusal page, downloads."""

from __future__ import annotations

import io
import os
import threading
from email import message_from_bytes, policy
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.portal.conftest import login
from tests.portal.helpers import CUSTOMER, build_mail, csrf_token, hidden, seal, submit
from tests.portal.tnef import build_tnef
from tests.portal.writelock import OtherWriter
from webcrypt import envelope
from webcrypt.sealing.securehtm import render_secure_htm

WAIT = 30  # seconds; only reached when something is wrong


def read(client: FlaskClient, armored: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/").data)
    return client.post("/read", data={"csrf_token": token, "envelope": armored})


def test_open_from_secure_htm_shows_login_with_the_envelope(client: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    response = client.post(
        "/open",
        data={"envelope": sealed.armored},
        headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200
    assert hidden(response.data, "envelope") == sealed.armored.strip()
    assert f'value="{CUSTOMER}"'.encode() in response.data


def test_open_when_logged_in_asks_before_opening(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail(body="Inhalt"))
    response = logged_in.post("/open", data={"envelope": sealed.armored})
    assert response.status_code == 200
    assert b"Open message" in response.data and b"Inhalt" not in response.data
    with runtime.keystore.session() as session:
        entry = runtime.keystore.ledger(session).get(sealed.message_id, 1)
        assert entry.first_opened_at is None


def test_open_garbage_shows_unknown_format(client: FlaskClient) -> None:
    response = client.post("/open", data={"envelope": "hello, not an envelope"})
    assert response.status_code == 400
    assert b"This file cannot be read" in response.data


def test_open_without_envelope_goes_to_start(client: FlaskClient) -> None:
    assert client.post("/open", data={}).status_code == 302
    assert client.get("/open").status_code == 302


@pytest.mark.parametrize("kind", ["secure.htm", "eml", "armored"])
def test_upload_then_login_then_read(client: FlaskClient, runtime, account: str, kind: str) -> None:
    sealed = seal(runtime, build_mail(body="Vertrag im Anhang"))
    page = render_secure_htm(sealed.armored, envelope.parse(sealed.armored).header)
    if kind == "secure.htm":
        data = page.encode()
    elif kind == "eml":
        data = (
            b"From: berater@bank.example\r\nTo: kunde@example.com\r\nSubject: Secure\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\n\r\nOpen the attachment.\r\n"
            b"--b\r\nContent-Type: text/html; name=secure.htm\r\n"
            b"Content-Disposition: attachment; filename=secure.htm\r\n"
            b"Content-Transfer-Encoding: 7bit\r\n\r\n" + page.encode() + b"\r\n--b--\r\n"
        )
    else:
        data = sealed.armored.encode()
    token = csrf_token(client.get("/upload").data)
    response = client.post(
        "/upload",
        data={"csrf_token": token, "file": (io.BytesIO(data), f"upload.{kind}")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert hidden(response.data, "envelope") == sealed.armored.strip()
    response = login(client, envelope=sealed.armored)
    assert response.status_code == 200
    assert "Vertrag im Anhang" in response.get_data(as_text=True)


def test_upload_when_logged_in_reads_at_once(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail(body="Direkt gelesen"))
    token = csrf_token(logged_in.get("/upload").data)
    response = logged_in.post(
        "/upload",
        data={"csrf_token": token, "file": (io.BytesIO(sealed.armored.encode()), "secure.htm")},
        content_type="multipart/form-data",
    )
    assert b"Direkt gelesen" in response.data


def test_upload_of_something_else(client: FlaskClient) -> None:
    token = csrf_token(client.get("/upload").data)
    response = client.post(
        "/upload",
        data={"csrf_token": token, "file": (io.BytesIO(b"<html>hello</html>"), "x.htm")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert b"No secure message found" in response.data


def test_upload_needs_a_file(client: FlaskClient) -> None:
    token = csrf_token(client.get("/upload").data)
    response = client.post("/upload", data={"csrf_token": token})
    assert response.status_code == 400


def test_read_plain_text_is_escaped(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail(body="<script>alert(1)</script> & more", subject="<b>x</b>"))
    page = read(logged_in, sealed.armored).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script>alert" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_read_shows_headers(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(subject="Kündigung WebCrypt", cc="kollege@bank.example")
    page = read(logged_in, seal(runtime, raw).armored).get_data(as_text=True)
    assert "Kündigung WebCrypt" in page
    assert "berater@bank.example" in page and "kollege@bank.example" in page
    assert "23 November 2026 at 08:00 UTC" in page  # the date format of every page and mail


def test_first_opening_is_recorded_once(logged_in: FlaskClient, runtime, clock) -> None:
    sealed = seal(runtime, build_mail())
    read(logged_in, sealed.armored)
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        first = (
            runtime.keystore.ledger(session).get(sealed.message_id, recipient.id).first_opened_at
        )
    assert first is not None
    clock.advance(minutes=5)
    read(logged_in, sealed.armored)
    with runtime.keystore.session() as session:
        again = (
            runtime.keystore.ledger(session).get(sealed.message_id, recipient.id).first_opened_at
        )
    assert again == first


def test_meant_for_another_address(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail(), to="andere@example.com")
    response = read(logged_in, sealed.armored)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "meant for another address" in page and "andere@example.com" in page
    # "Log out and log in as ..." keeps the message.
    response = submit(
        logged_in, "/logout", response.data, envelope=sealed.armored, email="andere@example.com"
    )
    assert hidden(response.data, "envelope") == sealed.armored.strip()
    assert b'value="andere@example.com"' in response.data


def assert_gone(client: FlaskClient, armored: str, reason: bytes) -> None:
    """Reading the message answers 410 Gone and says `reason`."""
    response = read(client, armored)
    assert response.status_code == 410
    assert reason in response.data


def test_expired_message(logged_in: FlaskClient, runtime, clock) -> None:
    sealed = seal(runtime, build_mail(), days=30)
    clock.advance(days=31)
    login(logged_in)
    assert_gone(logged_in, sealed.armored, b"This message has expired")


def test_withdrawn_message(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    with runtime.keystore.session() as session:
        assert runtime.keystore.ledger(session).revoke(sealed.message_id, by="berater@bank.example")
    assert_gone(logged_in, sealed.armored, b"withdrew this message on")


def test_destroyed_key_version_reads_as_expired(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    with runtime.keystore.session() as session:
        recipients = runtime.keystore.recipients(session)
        recipient = recipients.get(CUSTOMER)
        recipients.rotate_key(recipient)
        recipients.destroy_key_version(recipient.id, 1)
    assert_gone(logged_in, sealed.armored, b"This message has expired")


def _flip(armored: str, position: float) -> str:
    lines = armored.split("\n")
    index = int(len(lines) * position)
    line = lines[index]
    column = len(line) // 2
    replacement = "A" if line[column] != "A" else "B"
    lines[index] = line[:column] + replacement + line[column + 1 :]
    return "\n".join(lines)


def test_tampered_envelope_is_damaged(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(attachments=[("data.bin", "application/octet-stream", os.urandom(20000))])
    sealed = seal(runtime, raw)
    response = read(logged_in, _flip(sealed.armored, 0.6))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "altered or damaged" in page and "mail security system" in page
    assert "/upload" in page


def test_truncated_envelope_is_refused(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(attachments=[("data.bin", "application/octet-stream", os.urandom(20000))])
    sealed = seal(runtime, raw)
    lines = sealed.armored.split("\n")
    cut = "\n".join(lines[: len(lines) // 2] + lines[-3:])
    response = read(logged_in, cut)
    assert response.status_code in (400, 422)
    assert b"data.bin" not in response.data


def test_attachment_download_with_non_ascii_name(logged_in: FlaskClient, runtime) -> None:
    content = os.urandom(3000)
    raw = build_mail(attachments=[("Übersicht 2026.pdf", "application/pdf", content)])
    sealed = seal(runtime, raw)
    page = read(logged_in, sealed.armored)
    assert "Übersicht 2026.pdf" in page.get_data(as_text=True)
    response = logged_in.post(
        "/download",
        data={"csrf_token": csrf_token(page.data), "envelope": sealed.armored, "part": "2"},
    )
    assert response.status_code == 200
    assert response.data == content
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Ubersicht 2026.pdf"')
    assert "filename*=UTF-8''%C3%9Cbersicht%202026.pdf" in disposition
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_whole_message_as_eml(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(subject="Vertrag")
    sealed = seal(runtime, raw)
    page = read(logged_in, sealed.armored)
    response = logged_in.post(
        "/download",
        data={"csrf_token": csrf_token(page.data), "envelope": sealed.armored, "part": "eml"},
    )
    assert response.data == raw
    assert response.mimetype == "message/rfc822"
    assert 'filename="Vertrag.eml"' in response.headers["Content-Disposition"]


def test_unknown_part(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    page = read(logged_in, sealed.armored)
    for part in ("9", "../1", "1;2"):
        response = logged_in.post(
            "/download",
            data={"csrf_token": csrf_token(page.data), "envelope": sealed.armored, "part": part},
        )
        assert response.status_code == 404
        assert b"This message has no such attachment." in response.data


def test_download_needs_login(client: FlaskClient, runtime, account: str) -> None:
    sealed = seal(runtime, build_mail())
    response = submit(client, "/download", envelope=sealed.armored, part="eml")
    assert b'name="password"' in response.data
    assert hidden(response.data, "envelope") == sealed.armored.strip()


def test_winmail_dat_is_unpacked(logged_in: FlaskClient, runtime) -> None:
    tnef = build_tnef([("Angebot.txt", b"Angebot 42"), ("Plan.pdf", b"%PDF-1.4 plan")])
    raw = build_mail(attachments=[("winmail.dat", "application/ms-tnef", tnef)])
    sealed = seal(runtime, raw)
    page = read(logged_in, sealed.armored)
    text = page.get_data(as_text=True)
    assert "Angebot.txt" in text and "Plan.pdf" in text
    response = logged_in.post(
        "/download",
        data={"csrf_token": csrf_token(page.data), "envelope": sealed.armored, "part": "2.2"},
    )
    assert response.data == b"%PDF-1.4 plan"
    assert response.mimetype == "application/pdf"


def test_inline_cid_image(logged_in: FlaskClient, runtime) -> None:
    from email.message import EmailMessage

    png = b"\x89PNG\r\n\x1a\n" + os.urandom(64)
    message = message_from_bytes(
        build_mail(html_body='<p>Logo:</p><img src="cid:logo@bank" alt="logo">'),
        policy=policy.default,
    )
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(("html",))
    assert html_part is not None
    html_part.add_related(png, maintype="image", subtype="png", cid="<logo@bank>")
    sealed = seal(runtime, message.as_bytes())
    text = read(logged_in, sealed.armored).get_data(as_text=True)
    assert "data:image/png;base64," in text
    assert "logo@bank" not in text.split("Attachments")[-1]


@pytest.mark.slow
def test_ten_megabyte_message(logged_in: FlaskClient, runtime) -> None:
    content = os.urandom(7 * 1024 * 1024 + 300 * 1024)  # ~10 MB once base64-encoded in the mail
    raw = build_mail(attachments=[("scan.pdf", "application/pdf", content)])
    assert 9.5 * 1024 * 1024 < len(raw) <= 10 * 1024 * 1024
    sealed = seal(runtime, raw)
    # As a browser posts secure.htm's form and then the portal's forms: multipart, the
    # envelope with CRLF line ends, secure.htm's with Origin: null.
    carried = sealed.armored.rstrip("\n").replace("\n", "\r\n")
    response = logged_in.post(
        "/open",
        data={"envelope": carried},
        headers={"Origin": "null"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    token = csrf_token(response.data)
    page = logged_in.post(
        "/read",
        data={"csrf_token": token, "envelope": carried},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and b"scan.pdf" in page.data
    response = logged_in.post(
        "/download",
        data={"csrf_token": csrf_token(page.data), "envelope": carried, "part": "2"},
        content_type="multipart/form-data",
    )
    assert response.data == content


def test_too_large_upload_gets_a_friendly_page(client: FlaskClient) -> None:
    token = csrf_token(client.get("/upload").data)
    response = client.post(
        "/upload",
        data={"csrf_token": token, "file": (io.BytesIO(b"x" * (28 * 1024 * 1024)), "big.htm")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert b"too large" in response.data


def test_hostile_attachment_names(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(
        attachments=[
            ("<img src=x onerror=alert(1)>.pdf", "application/pdf", b"a"),
            ('../../etc/"passwd";evil.txt', "text/plain", b"b"),
            ("report.html", "text/html", b"<script>alert(1)</script>"),
        ]
    )
    # A name that decodes to a line break and a header of its own.
    raw = raw.replace(b'filename="report.html"', b'filename="=?utf-8?q?r=0D=0AX-Evil=3A_1.html?="')
    sealed = seal(runtime, raw)
    page = read(logged_in, sealed.armored)
    text = page.get_data(as_text=True)
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;.pdf" in text
    token = csrf_token(page.data)
    second = logged_in.post(
        "/download", data={"csrf_token": token, "envelope": sealed.armored, "part": "3"}
    )
    disposition = second.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert "X-Evil" not in second.headers
    html_file = logged_in.post(
        "/download", data={"csrf_token": token, "envelope": sealed.armored, "part": "4"}
    )
    assert html_file.headers["Content-Disposition"].startswith("attachment;")
    assert "\r" not in html_file.headers["Content-Disposition"]
    assert "X-Evil" not in html_file.headers
    assert "sandbox" in html_file.headers["Content-Security-Policy"]
    assert html_file.headers["X-Content-Type-Options"] == "nosniff"


def test_no_content_in_logs(
    logged_in: FlaskClient, runtime, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    sealed = seal(runtime, build_mail(subject="Geheimer Betreff", body="Streng geheimer Inhalt"))
    page = read(logged_in, sealed.armored)
    token = csrf_token(page.data)
    logged_in.post(
        "/download", data={"csrf_token": token, "envelope": sealed.armored, "part": "eml"}
    )
    logged = caplog.text
    assert "Streng geheimer Inhalt" not in logged and "Geheimer Betreff" not in logged


def test_no_write_lock_is_held_while_decrypting(
    logged_in: FlaskClient, runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = seal(
        runtime,
        build_mail(attachments=[("scan.pdf", "application/pdf", os.urandom(1024 * 1024))]),
    )
    token = csrf_token(logged_in.get("/").data)
    decrypting, written = threading.Event(), threading.Event()
    real_open = envelope.open

    def open_once_written(parsed: envelope.Envelope, key: bytes, **options: Any) -> bytes:
        decrypting.set()
        # Bounded: with the lock held, the other writer gives up long before this.
        written.wait(WAIT)
        return real_open(parsed, key, **options)

    monkeypatch.setattr(envelope, "open", open_once_written)
    outcome: list[Any] = []

    def read_in_thread() -> None:
        try:
            outcome.append(
                logged_in.post("/read", data={"csrf_token": token, "envelope": sealed.armored})
            )
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    other = OtherWriter(runtime)
    reader = threading.Thread(target=read_in_thread)
    reader.start()
    try:
        assert decrypting.wait(WAIT), "the reader never started decrypting"
        failure = other.write()  # another process's transaction, while the reader decrypts
    finally:
        written.set()
        reader.join(WAIT)
        other.close()
    assert failure is None, failure
    assert not reader.is_alive()
    response = outcome[0]
    if isinstance(response, BaseException):
        raise response
    assert response.status_code == 200 and b"scan.pdf" in response.data
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        entry = runtime.keystore.ledger(session).get(sealed.message_id, recipient.id)
        assert entry.first_opened_at is not None
