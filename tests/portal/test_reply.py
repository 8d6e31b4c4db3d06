"""Replies and new messages: only internal addresses from the message or the ledger."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.portal.helpers import ADVISER, CUSTOMER, build_mail, csrf_token, seal, submit


def outbox(tmp_path: Path) -> list:  # type: ignore[type-arg]
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def compose(client: FlaskClient, armored: str, mode: str = "reply"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/").data)
    return client.post("/reply", data={"csrf_token": token, "envelope": armored, "mode": mode})


def send(client: FlaskClient, page, armored: str, **fields):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(page.data), "envelope": armored, **fields}
    return client.post("/reply/send", data=data, content_type="multipart/form-data")


def test_reply_goes_to_the_adviser(logged_in: FlaskClient, runtime, tmp_path: Path) -> None:
    raw = build_mail(subject="Ihr Vertrag", body="Bitte unterschreiben.", cc="extern@other.example")
    sealed = seal(runtime, raw)
    page = compose(logged_in, sealed.armored)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "&gt; Bitte unterschreiben." in text
    assert ADVISER in text
    response = send(
        logged_in,
        page,
        sealed.armored,
        body="Erledigt, danke!",
        attachments=[(io.BytesIO(b"%PDF signed"), "unterschrieben.pdf")],
        # Attempts to add recipients through the form are ignored.
        to="attacker@evil.example",
        cc="attacker@evil.example",
    )
    assert response.status_code == 200, response.data[:2000]
    assert b"has been sent" in response.data
    (mail,) = outbox(tmp_path)
    assert mail["To"] == ADVISER
    assert mail["Cc"] is None
    assert mail["From"] == CUSTOMER and mail["Reply-To"] == CUSTOMER
    assert mail["Subject"] == "Re: Ihr Vertrag [WebCrypt]"
    original = message_from_bytes(raw, policy=policy.default)
    assert mail["In-Reply-To"] == original["Message-ID"]
    assert "Erledigt, danke!" in mail.get_body(("plain",)).get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "unterschrieben.pdf"
    assert attachment.get_content() == b"%PDF signed"
    assert "evil.example" not in mail.as_string()
    # Recorded, so that the adviser's answer to it is sealed (the thread rule).
    reply_id = str(mail["Message-ID"]).strip("<>")
    with runtime.keystore.session() as session:
        senders = runtime.keystore.ledger(session).portal_senders([reply_id, "other@x.example"])
    assert senders == {CUSTOMER}


def test_reply_keeps_an_existing_trigger_word(
    logged_in: FlaskClient, runtime, tmp_path: Path
) -> None:
    sealed = seal(runtime, build_mail(subject="WebCrypt Angebot"))
    page = compose(logged_in, sealed.armored)
    send(logged_in, page, sealed.armored, body="Ok")
    (mail,) = outbox(tmp_path)
    assert mail["Subject"] == "Re: WebCrypt Angebot"


def test_reply_all_adds_only_internal_addresses(
    logged_in: FlaskClient, runtime, tmp_path: Path
) -> None:
    raw = build_mail(
        to=f"{CUSTOMER}, kollegin@bank.example", cc="extern@other.example, chef@bank.example"
    )
    sealed = seal(runtime, raw)
    page = compose(logged_in, sealed.armored, mode="all")
    send(logged_in, page, sealed.armored, body="An alle", reply_all="y")
    (mail,) = outbox(tmp_path)
    assert mail["To"] == ADVISER
    assert mail["Cc"] == "kollegin@bank.example, chef@bank.example"
    assert "other.example" not in str(mail["Cc"])


def test_no_reply_to_an_external_sender(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(
        runtime, build_mail(sender="someone@other.example"), sender="someone@other.example"
    )
    assert compose(logged_in, sealed.armored).status_code == 403


def test_reply_needs_login(client: FlaskClient, runtime, account: str) -> None:
    sealed = seal(runtime, build_mail())
    response = submit(client, "/reply/send", envelope=sealed.armored, body="x")
    assert b'name="password"' in response.data


def test_reply_size_limit(logged_in: FlaskClient, runtime, tmp_path: Path) -> None:
    from tests.portal.conftest import update_settings

    update_settings(runtime, max_message_size=1024 * 1024)
    sealed = seal(runtime, build_mail())
    page = compose(logged_in, sealed.armored)
    response = send(
        logged_in,
        page,
        sealed.armored,
        body="x",
        attachments=[(io.BytesIO(b"0" * (900 * 1024)), "big.bin")],
    )
    assert response.status_code == 400
    assert b"too large" in response.data
    assert outbox(tmp_path) == []


def test_relay_failure_keeps_the_text(logged_in: FlaskClient, runtime, tmp_path: Path) -> None:
    sealed = seal(runtime, build_mail())
    page = compose(logged_in, sealed.armored)
    (tmp_path / "outbox").rmdir()
    (tmp_path / "outbox").write_text("not a directory")
    response = send(logged_in, page, sealed.armored, body="Mein wichtiger Text")
    assert response.status_code == 400
    assert b"could not be sent" in response.data
    assert b"Mein wichtiger Text" in response.data


def write(client: FlaskClient, page: Any, *, as_multipart: bool = False, **fields: str) -> Any:
    """Post the write form of `page` with `fields`; return the response."""
    data = {"csrf_token": csrf_token(page.data), **fields}
    if as_multipart:
        return client.post("/write", data=data, content_type="multipart/form-data")
    return client.post("/write", data=data)


def test_write_to_a_known_adviser(logged_in: FlaskClient, runtime, tmp_path: Path) -> None:
    page = logged_in.get("/write")
    assert ADVISER in page.get_data(as_text=True)
    response = write(logged_in, page, to=ADVISER, subject="Frage", body="Hallo", as_multipart=True)
    assert response.status_code == 200
    (mail,) = outbox(tmp_path)
    assert mail["To"] == ADVISER and mail["Subject"] == "Frage [WebCrypt]"


def test_write_refuses_other_addresses(logged_in: FlaskClient, tmp_path: Path) -> None:
    page = logged_in.get("/write")
    for to in ("attacker@evil.example", "chef@bank.example"):
        response = write(logged_in, page, to=to, subject="x", body="y")
        assert response.status_code == 400
    assert outbox(tmp_path) == []


def test_write_refuses_header_injection(logged_in: FlaskClient, tmp_path: Path) -> None:
    page = logged_in.get("/write")
    subject = "Hallo\r\nBcc: attacker@evil.example"
    response = write(logged_in, page, to=ADVISER, subject=subject, body="y")
    assert response.status_code == 400
    assert outbox(tmp_path) == []


def test_write_without_known_advisers(client: FlaskClient, runtime) -> None:
    from tests.portal.conftest import first_login

    sealed = seal(runtime, build_mail(), to="ohne@example.com", record=False)
    first_login(client, sealed.pin, address="ohne@example.com")
    page = client.get("/write")
    assert b"There is none yet" in page.data


def test_the_reply_page_shows_who_reply_and_reply_all_reach_and_lets_the_customer_choose(
    logged_in: FlaskClient, runtime, tmp_path: Path
) -> None:
    import re

    raw = build_mail(to=f"{CUSTOMER}, kollegin@bank.example")
    sealed = seal(runtime, raw)
    page = compose(logged_in, sealed.armored, mode="all")
    text = page.get_data(as_text=True)
    only = re.search(r'<input type="radio" name="reply_all" value=""[^>]*>\s*([^<]+)<', text)
    everyone = re.search(r'<input type="radio" name="reply_all" value="y"[^>]*>\s*([^<]+)<', text)
    assert only and everyone, text
    assert ADVISER in only.group(1) and "kollegin" not in only.group(1)
    assert ADVISER in everyone.group(1) and "kollegin@bank.example" in everyone.group(1)
    assert "checked" in everyone.group(0) and "checked" not in only.group(0)
    send(logged_in, page, sealed.armored, body="Nur an Sie", reply_all="")
    (mail,) = outbox(tmp_path)
    assert mail["To"] == ADVISER and mail["Cc"] is None


def test_no_choice_when_reply_all_reaches_nobody_else(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail())
    text = compose(logged_in, sealed.armored, mode="all").get_data(as_text=True)
    assert 'type="radio"' not in text and ADVISER in text
