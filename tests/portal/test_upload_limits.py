"""MIME limits in the portal: checked before anything parses, with a clear page, never a 500."""

from __future__ import annotations

import email.feedparser
import io

from flask.testing import FlaskClient

from tests.portal.helpers import csrf_token, seal


def many_parts(count: int) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % i for i in range(count))
    return (
        b"From: someone@example.com\r\nSubject: hostile\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + body + b"--b--\r\n"
    )


def deep(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"Subject: deep\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi" + closing


def upload(client: FlaskClient, data: bytes, **headers: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/upload").data)
    return client.post(
        "/upload",
        data={"csrf_token": token, "file": (io.BytesIO(data), "mail.eml")},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_hostile_upload_is_refused_before_it_is_parsed(client: FlaskClient, monkeypatch) -> None:
    fed = []
    original = email.feedparser.FeedParser.feed
    monkeypatch.setattr(
        email.feedparser.FeedParser, "feed", lambda *a: fed.append(1) or original(*a)
    )
    response = upload(client, many_parts(60_000))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file cannot be read" in page
    assert "It has more than 1000 parts." in page
    assert fed == []  # the email parser never saw it


def test_refusal_page_in_german(client: FlaskClient) -> None:
    response = upload(client, many_parts(2000), **{"Accept-Language": "de"})
    assert response.status_code == 422
    assert "mehr als 1000 Teile" in response.get_data(as_text=True)


def test_decrypted_message_over_a_limit_is_refused_clearly(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, deep(60))
    token = csrf_token(logged_in.get("/").data)
    response = logged_in.post("/read", data={"csrf_token": token, "envelope": sealed.armored})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This message cannot be shown" in page
    assert "nested more than 50 levels deep" in page


def test_deep_but_allowed_message_is_shown(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(runtime, deep(30))
    token = csrf_token(logged_in.get("/").data)
    response = logged_in.post("/read", data={"csrf_token": token, "envelope": sealed.armored})
    assert response.status_code == 200
