"""The customer's inbox: list, paging, quota, opening (and the scanner-safe link), reading
path reuse for downloads and replies, deleting with CSRF, the expired/deleted page."""

from __future__ import annotations

import io
import re
import secrets
from email import message_from_bytes, policy
from pathlib import Path

from flask.testing import FlaskClient

from tests.portal.conftest import login, update_settings
from tests.portal.helpers import ADVISER, build_mail, csrf_token, hidden
from tests.portal.mailboxes import entry_state, store_message


def _ledger_opened(runtime, stored) -> object:  # type: ignore[no-untyped-def]
    with runtime.keystore.session() as session:
        entry = runtime.keystore.ledger(session).get(
            stored.sealed.message_id, stored.sealed.recipient_id
        )
        return entry.first_opened_at


def _audit_count(runtime) -> int:  # type: ignore[no-untyped-def]
    with runtime.keystore.session() as session:
        return len(runtime.keystore.audit(session).search())


# -- login and the list -------------------------------------------------------------------


def test_inbox_needs_login(client: FlaskClient) -> None:
    response = client.get("/inbox")
    assert response.status_code == 200
    assert b'name="password"' in response.data or b'name="email"' in response.data
    assert b"Inbox</h1>" not in response.data


def test_login_lands_in_the_inbox(client: FlaskClient, account: str) -> None:
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_list_shows_the_summary_newest_first(logged_in: FlaskClient, runtime, clock) -> None:
    store_message(runtime, build_mail(subject="Erster Brief"))
    clock.advance(minutes=5)
    attached = build_mail(
        subject="Zweiter Brief", attachments=[("vertrag.pdf", "application/pdf", b"%PDF-1.4")]
    )
    store_message(runtime, attached)
    page = logged_in.get("/inbox").get_data(as_text=True)
    assert page.index("Zweiter Brief") < page.index("Erster Brief")
    assert "Berta Berater" in page and ADVISER in page
    assert page.count("Unread</span>") == 2
    assert "1 attachment" in page
    assert "2 messages" in page
    # The expiry date is shown for each message.
    assert page.count("Deleted on") == 2


def test_list_writes_dates_as_every_portal_page(logged_in: FlaskClient, runtime) -> None:
    store_message(runtime, build_mail(subject="Brief"))
    page = logged_in.get("/inbox").get_data(as_text=True)
    assert re.search(r"Deleted on \d{1,2} [A-Z][a-z]+ \d{4}\b", page)
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d UTC", page)


def test_paging_at_fifty(logged_in: FlaskClient, runtime, clock) -> None:
    for number in range(51):
        store_message(runtime, build_mail(subject=f"Nachricht {number:02d}"))
        clock.advance(seconds=1)
    first = logged_in.get("/inbox").get_data(as_text=True)
    assert first.count('class="inbox-item') == 50
    assert "Nachricht 50" in first and "Nachricht 00" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = logged_in.get("/inbox?page=2").get_data(as_text=True)
    assert second.count('class="inbox-item') == 1 and "Nachricht 00" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Pages out of range or not numbers show the nearest page.
    assert "Page 2 of 2" in logged_in.get("/inbox?page=99").get_data(as_text=True)
    assert "Page 1 of 2" in logged_in.get("/inbox?page=x").get_data(as_text=True)


def test_usage_of_the_quota_is_shown(logged_in: FlaskClient, runtime) -> None:
    update_settings(runtime, mailbox_quota=20 * 1024 * 1024)
    stored = store_message(runtime, build_mail(body=secrets.token_hex(100_000)))
    page = logged_in.get("/inbox").get_data(as_text=True)
    used = len(stored.sealed.armored.encode("ascii"))
    assert used > 100_000
    match = re.search(r"Mailbox used: ([^<]+) of 20 MB \((\d+) %\)", page)
    assert match, page
    assert int(match.group(2)) == round(used * 100 / (20 * 1024 * 1024))
    assert '<progress max="100"' in page


def test_summary_that_cannot_be_opened_is_listed_plainly(logged_in: FlaskClient, runtime) -> None:
    store_message(runtime, build_mail(subject="Geheim"), summary=b"not a sealed summary")
    page = logged_in.get("/inbox").get_data(as_text=True)
    assert "(this message cannot be shown)" in page
    assert "Geheim" not in page


def test_someone_elses_messages_are_not_listed(logged_in: FlaskClient, runtime) -> None:
    store_message(
        runtime, build_mail(subject="Fremd", to="other@example.org"), to="other@example.org"
    )
    page = logged_in.get("/inbox").get_data(as_text=True)
    assert "Fremd" not in page and "Your inbox is empty" in page


# -- opening, and the link in the notification mail ----------------------------------------


def test_opening_shows_the_message_and_marks_it_read(logged_in: FlaskClient, runtime) -> None:
    stored = store_message(runtime, build_mail(subject="Ihr Vertrag", body="Inhalt 4711"))
    response = logged_in.get(f"/inbox/{stored.entry_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Inhalt 4711" in page and "Ihr Vertrag" in page
    # The page carries the entry id, not the envelope.
    assert hidden(page, "entry") == stored.entry_id
    assert 'name="envelope"' not in page
    assert "Back to the inbox" in page
    assert entry_state(runtime, stored).read_at is not None
    assert _ledger_opened(runtime, stored) is not None
    assert "Unread</span>" not in logged_in.get("/inbox").get_data(as_text=True)


def test_scanner_get_changes_nothing_then_login_opens_the_message(
    client: FlaskClient, runtime, account: str
) -> None:
    stored = store_message(runtime, build_mail(body="Inhalt 4711"))
    audits = _audit_count(runtime)
    scanner = client.application.test_client()
    for _ in range(3):
        response = scanner.get(f"/inbox/{stored.entry_id}")
        assert response.status_code == 200
        assert b"Inhalt 4711" not in response.data
        assert b'name="email"' in response.data
        assert b"Please log in to read your secure message." in response.data
        assert stored.sealed.recipient.encode() not in response.data
    assert entry_state(runtime, stored).read_at is None
    assert _ledger_opened(runtime, stored) is None
    assert _audit_count(runtime) == audits
    # The customer follows the link, logs in and lands on the message.
    client.get(f"/inbox/{stored.entry_id}")
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/inbox/{stored.entry_id}"
    page = client.get(response.headers["Location"])
    assert b"Inhalt 4711" in page.data
    # Only once: the next login goes to the inbox again.
    client.post("/logout", data={"csrf_token": csrf_token(page.data)})
    assert login(client).headers["Location"] == "/inbox"


def test_deleted_or_unknown_entry_says_so(logged_in: FlaskClient) -> None:
    for entry_id in ("A" * 32, "not!an*id"):
        response = logged_in.get(f"/inbox/{entry_id}")
        assert response.status_code in (404, 410)
        assert b"no longer in your mailbox" in response.data
        assert b"expired or has been deleted" in response.data


def test_expired_message_shows_expired(logged_in: FlaskClient, runtime, clock) -> None:
    stored = store_message(runtime, build_mail(), days=1)
    clock.advance(days=2)
    login(logged_in)  # the session ended meanwhile
    response = logged_in.get(f"/inbox/{stored.entry_id}")
    assert response.status_code == 410
    assert b"This message has expired" in response.data
    assert entry_state(runtime, stored).read_at is None


def test_another_customers_entry_is_gone_for_me(logged_in: FlaskClient, runtime) -> None:
    other = store_message(runtime, build_mail(to="other@example.org"), to="other@example.org")
    response = logged_in.get(f"/inbox/{other.entry_id}")
    assert response.status_code == 410
    assert entry_state(runtime, other).read_at is None


# -- downloads and replies through the reading path -----------------------------------------


def test_download_attachment_and_eml_byte_identical(logged_in: FlaskClient, runtime) -> None:
    data = bytes(range(256)) * 40
    raw = build_mail(attachments=[("daten.bin", "application/octet-stream", data)])
    stored = store_message(runtime, raw)
    page = logged_in.get(f"/inbox/{stored.entry_id}").get_data(as_text=True)
    part = re.search(r'name="part" value="([^"]+)" class="link">daten.bin', page)
    assert part
    token = csrf_token(page)
    response = logged_in.post(
        "/download", data={"csrf_token": token, "entry": stored.entry_id, "part": part.group(1)}
    )
    assert response.status_code == 200 and response.data == data
    eml = logged_in.post(
        "/download", data={"csrf_token": token, "entry": stored.entry_id, "part": "eml"}
    )
    assert eml.status_code == 200 and eml.data == raw


def test_reply_with_attachment_from_the_inbox(
    logged_in: FlaskClient, runtime, tmp_path: Path
) -> None:
    stored = store_message(runtime, build_mail(subject="Frage [secure]"))
    page = logged_in.get(f"/inbox/{stored.entry_id}").get_data(as_text=True)
    compose = logged_in.post(
        "/reply",
        data={"csrf_token": csrf_token(page), "entry": stored.entry_id, "mode": "reply"},
    )
    assert compose.status_code == 200
    assert hidden(compose.data, "entry") == stored.entry_id
    sent = logged_in.post(
        "/reply/send",
        data={
            "csrf_token": csrf_token(compose.data),
            "entry": stored.entry_id,
            "body": "Danke, anbei die Unterlagen.",
            "attachments": (io.BytesIO(b"scan-bytes"), "scan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200, sent.data[:2000]
    outbox = sorted((tmp_path / "outbox").glob("*"))
    assert outbox
    message = message_from_bytes(outbox[-1].read_bytes(), policy=policy.default)
    assert ADVISER in str(message["To"])
    names = [part.get_filename() for part in message.iter_attachments()]
    assert "scan.pdf" in names


def test_entry_of_another_customer_cannot_be_downloaded(logged_in: FlaskClient, runtime) -> None:
    other = store_message(runtime, build_mail(to="other@example.org"), to="other@example.org")
    token = csrf_token(logged_in.get("/inbox").data)
    response = logged_in.post(
        "/download", data={"csrf_token": token, "entry": other.entry_id, "part": "eml"}
    )
    assert response.status_code == 302  # nothing carried: back to the start page


# -- deleting -------------------------------------------------------------------------------


def test_delete_asks_then_needs_csrf_then_deletes(logged_in: FlaskClient, runtime) -> None:
    stored = store_message(runtime, build_mail(subject="Weg damit"))
    confirm = logged_in.get(f"/inbox/{stored.entry_id}/delete")
    assert confirm.status_code == 200 and b"Weg damit" in confirm.data
    assert entry_state(runtime, stored) is not None
    refused = logged_in.post(f"/inbox/{stored.entry_id}/delete", data={})
    assert refused.status_code == 400
    assert entry_state(runtime, stored) is not None
    done = logged_in.post(
        f"/inbox/{stored.entry_id}/delete", data={"csrf_token": csrf_token(confirm.data)}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    assert entry_state(runtime, stored) is None
    assert b"The message has been deleted." in logged_in.get("/inbox").data
    # The old link now says the message is gone.
    gone = logged_in.get(f"/inbox/{stored.entry_id}")
    assert gone.status_code == 410 and b"no longer in your mailbox" in gone.data
    with runtime.keystore.session() as session:
        actions = [row.action for row in runtime.keystore.audit(session).search()]
    assert "portal.mailbox_deleted" in actions


def test_delete_without_login_changes_nothing(client: FlaskClient, runtime, account: str) -> None:
    stored = store_message(runtime, build_mail())
    token = csrf_token(client.get("/").data)
    response = client.post(f"/inbox/{stored.entry_id}/delete", data={"csrf_token": token})
    assert response.status_code == 200 and b'name="email"' in response.data
    assert entry_state(runtime, stored) is not None


def test_help_page_in_both_languages(client: FlaskClient) -> None:
    english = client.get("/inbox/help")
    assert english.status_code == 200 and b"Your secure mailbox" in english.data
    client.get("/language/de")
    german = client.get("/inbox/help")
    assert "Ihr sicheres Postfach" in german.get_data(as_text=True)


def test_write_offers_the_senders_of_stored_messages(logged_in: FlaskClient, runtime) -> None:
    other = "zweite.beraterin@bank.example"
    store_message(runtime, build_mail(sender=other), sender=other)
    inbox = logged_in.get("/inbox").get_data(as_text=True)
    assert 'href="/write"' in inbox
    page = logged_in.get("/write").get_data(as_text=True)
    assert other in page and ADVISER in page


def test_opening_the_attachment_marks_the_mailbox_copy_read(
    logged_in: FlaskClient, runtime
) -> None:
    stored = store_message(runtime, build_mail(body="Beides"))
    token = csrf_token(logged_in.get("/inbox").data)
    response = logged_in.post(
        "/read", data={"csrf_token": token, "envelope": stored.sealed.armored}
    )
    assert response.status_code == 200 and b"Beides" in response.data
    assert entry_state(runtime, stored).read_at is not None
    assert "Unread</span>" not in logged_in.get("/inbox").get_data(as_text=True)


def test_list_escapes_what_the_sender_wrote(logged_in: FlaskClient, runtime) -> None:
    store_message(runtime, build_mail(subject='<script>alert("x")</script><b>fett</b>'))
    page = logged_in.get("/inbox").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>fett" not in page
    assert "&lt;script&gt;" in page
