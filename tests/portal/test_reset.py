"""The forgotten password: mailbox first (a one-time link), then the security question.

Each test shows an attack of the old flow failing: asking for anyone's question, guessing
answers slowly for ever, using a link twice or through a mail scanner's GET.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.portal.conftest import login, update_settings
from tests.portal.helpers import PASSWORD, csrf_token
from tests.portal.resetflow import NEW_PASSWORD, answer, ask, body, link, mails, reset_stage, use
from tests.support.accounts import account_of

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OTHER = {"REMOTE_ADDR": "198.51.100.7"}


def audit(runtime: Any, action: str) -> list[Any]:
    with runtime.keystore.session() as session:
        return runtime.keystore.audit(session).search(action=action)


def normalized(page: bytes, address: str) -> str:
    text = page.decode().replace(address, "ADDRESS")
    return re.sub(r'name="csrf_token"[^>]*>', "", text)


def test_the_question_needs_the_mailbox_first(
    client: FlaskClient, account: str, app: Flask, tmp_path: Path
) -> None:
    response = ask(client)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "What was the name of your first pet?" not in page
    assert 'name="answer"' not in page
    # Answering without having used a link does nothing.
    data = {
        "csrf_token": csrf_token(client.get("/forgot").data),
        "email": account,
        "answer": "Bello",
        "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    assert client.post("/forgot/answer", data=data).status_code == 400
    assert login(client, password=NEW_PASSWORD).status_code == 401
    (mail,) = mails(app, tmp_path, "reset_link")
    assert mail["To"] == account


def test_same_answer_whether_or_not_the_address_has_an_account(
    app: Flask, account: str, tmp_path: Path, runtime: Any
) -> None:
    known = ask(app.test_client(), account)
    unknown = ask(app.test_client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert normalized(known.data, account) == normalized(unknown.data, "nobody@example.org")
    assert [mail["To"] for mail in mails(app, tmp_path)] == [account]
    targets = {event.target for event in audit(runtime, "portal.reset_requested")}
    assert targets == {account, "nobody@example.org"}


def test_the_mail_goes_out_after_the_answer(
    app: Flask, account: str, tmp_path: Path, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay is not called while the request runs, so timing cannot tell accounts apart."""
    relay = runtime.relay_for("portal")
    sending: list[str] = []
    original = relay.send

    def send(*args: Any, **kwargs: Any) -> None:
        sending.append(threading.current_thread().name)
        original(*args, **kwargs)

    monkeypatch.setattr(relay, "send", send)
    ask(app.test_client(), account)
    mails(app, tmp_path)
    assert len(sending) == 1
    assert sending[0] != threading.current_thread().name
    assert sending[0].startswith("account-mail")


def test_opening_the_link_with_get_changes_nothing(
    app: Flask, account: str, tmp_path: Path, runtime: Any
) -> None:
    ask(app.test_client())
    path = link(app, tmp_path)
    scanner = app.test_client()
    for _ in range(3):
        page = scanner.get(path)
        assert page.status_code == 200
        assert 'name="answer"' not in page.get_data(as_text=True)
    assert audit(runtime, "portal.reset_link_used") == []
    # The customer's own click still works afterwards.
    customer = app.test_client()
    assert use(customer, path).status_code == 200


def test_a_link_works_once(app: Flask, account: str, tmp_path: Path) -> None:
    ask(app.test_client())
    path = link(app, tmp_path)
    first = use(app.test_client(), path)
    assert "What was the name of your first pet?" in first.get_data(as_text=True)
    second = use(app.test_client(), path)
    assert second.status_code == 400
    assert "does not work any more" in second.get_data(as_text=True)
    assert 'name="answer"' not in second.get_data(as_text=True)


def test_a_link_expires(app: Flask, account: str, tmp_path: Path, clock: Any) -> None:
    ask(app.test_client())
    clock.advance(minutes=20)
    response = use(app.test_client(), link(app, tmp_path))
    assert response.status_code == 400


def test_a_made_up_token_does_nothing(client: FlaskClient, account: str) -> None:
    response = use(client, "/forgot/link/" + "A" * 43)
    assert response.status_code == 400


def test_reset_with_link_and_normalized_answer(
    app: Flask, account: str, tmp_path: Path, runtime: Any
) -> None:
    earlier = app.test_client()
    assert login(earlier).status_code == 302
    client, page = reset_stage(app, tmp_path)
    response = answer(client, page, "  ＢＥＬＬＯ ")  # full-width capitals, spaces
    assert response.status_code == 302
    assert b"Change password" in client.get("/profile").data
    assert b"Change password" not in earlier.get("/profile").data  # other sessions end
    fresh = app.test_client()
    assert login(fresh).status_code == 401
    assert login(fresh, password=NEW_PASSWORD).status_code == 302
    (notice,) = mails(app, tmp_path, "reset_notice")
    assert "password was changed" in str(notice["Subject"])
    assert [e.target for e in audit(runtime, "portal.password_reset")] == [account]
    # The link is spent with the reset, and the reset cannot be repeated from the session.
    assert answer(client, page, "Bello", "yet another secret 11").status_code == 400


def test_wrong_answers_count_per_account_across_addresses(
    app: Flask, account: str, tmp_path: Path, runtime: Any
) -> None:
    first, first_page = reset_stage(app, tmp_path, ATTACKER)
    assert answer(first, first_page, "Rex", environ=ATTACKER).status_code == 401
    second, page = reset_stage(app, tmp_path, OTHER)
    wrong = answer(second, page, "Hasso", environ=OTHER)
    assert wrong.status_code == 401
    assert "After one more wrong answer" in wrong.get_data(as_text=True)
    # Third wrong answer, from the first address again: closed for the account.
    closed = answer(first, first_page, "Lassie", environ=ATTACKER)
    assert closed.status_code == 403
    assert "contact your adviser" in closed.get_data(as_text=True)
    # Now even the right answer, with a fresh link, gets nowhere.
    third = app.test_client()
    ask(third)
    assert len(mails(app, tmp_path, "reset_link")) == 2  # no new link for a closed account
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 401
    assert login(app.test_client()).status_code == 302  # the password itself still works
    events = [e.detail for e in audit(runtime, "portal.reset_wrong_answer")]
    assert sorted(events) == ["wrong answer 1 of 3", "wrong answer 2 of 3"]
    assert len(audit(runtime, "portal.reset_closed")) == 1


def test_an_admin_reset_reopens_the_self_service_reset(
    app: Flask, account: str, tmp_path: Path, runtime: Any
) -> None:
    update_settings(runtime, reset_answer_attempts=1)
    client, page = reset_stage(app, tmp_path)
    assert answer(client, page, "Rex").status_code == 403
    with account_of(runtime.keystore, account) as (recipients, recipient):
        assert recipients.reset_state(recipient) == "closed"
        recipients.reset_pin(recipient)
        recipients.set_password(recipient, PASSWORD)
        assert recipients.reset_state(recipient) == "open"


def test_a_notice_for_every_outcome_in_the_customers_language(
    app: Flask, account: str, tmp_path: Path, runtime: Any
) -> None:
    with account_of(runtime.keystore, account) as (recipients, recipient):
        recipients.set_language(recipient, "de")
    update_settings(runtime, reset_answer_attempts=2)
    client, page = reset_stage(app, tmp_path)
    answer(client, page, "Rex")
    answer(client, page, "Hasso")
    ask(app.test_client())  # closed now: a notice instead of a link
    subjects = sorted(str(mail["Subject"]) for mail in mails(app, tmp_path))
    assert subjects == [
        "WebCrypt: Passwort zurücksetzen",
        "WebCrypt: Zurücksetzen des Passworts für Ihr Konto",
        "WebCrypt: Zurücksetzen des Passworts gesperrt",
        "WebCrypt: Zurücksetzen des Passworts gesperrt",
    ]
    for mail in mails(app, tmp_path, "reset_notice"):
        text = body(mail)
        assert mail["To"] == account
        assert "/forgot/link/" not in text
        for secret in ("Rex", "Hasso", "Bello", NEW_PASSWORD):
            assert secret not in text


def test_a_notice_after_a_reset_with_a_notice_in_english(
    app: Flask, account: str, tmp_path: Path
) -> None:
    client, page = reset_stage(app, tmp_path)
    answer(client, page, "Rex")
    (notice,) = mails(app, tmp_path, "reset_notice")
    assert "wrong answer to your security question" in body(notice)
    assert "After 2 more wrong answer(s)" in body(notice)


def test_links_per_hour_are_capped(app: Flask, account: str, tmp_path: Path, runtime: Any) -> None:
    for _ in range(5):
        assert ask(app.test_client()).status_code == 200
    assert len(mails(app, tmp_path)) == 3
    assert len(audit(runtime, "portal.reset_requested")) == 5


def test_an_account_without_an_answer_gets_a_notice_not_a_link(
    app: Flask, runtime: Any, tmp_path: Path
) -> None:
    from tests.portal.helpers import build_mail, seal

    seal(runtime, build_mail())  # PIN only: no password, no question yet
    ask(app.test_client())
    (notice,) = mails(app, tmp_path)
    assert notice["X-WebCrypt-Notice"] == "reset_notice"
    assert "one-time PIN" in body(notice)
