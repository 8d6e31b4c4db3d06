"""Password resets in the keystore: hashed one-time links, wrong answers per account, PINs."""

from __future__ import annotations

import hashlib
import threading
from functools import partial

import pytest
from sqlalchemy import select

from keystore.db import Keystore
from keystore.models import ResetToken
from keystore.passwords import legacy_normalize_answer, normalize_answer
from keystore.resets import ResetAnswer
from tests.keystore.conftest import FakeClock
from tests.support.accounts import account_of
from tests.support.threads import run_at_once

ADDRESS = "kunde@example.com"


def account(keystore: Keystore, *, answer: str = "Bello") -> int:
    """Create an account with a password and a security answer; return its id."""
    with keystore.session() as session:
        service = keystore.recipients(session)
        recipient, _ = service.get_or_create(ADDRESS, created_by="adviser@bank.example")
        service.set_password(recipient, "a long enough password")
        service.set_security_question(recipient, "first_pet", answer)
        return int(recipient.id)


def issue(keystore: Keystore, recipient_id: int) -> str | None:
    with account_of(keystore, recipient_id) as (service, recipient):
        return service.issue_reset_token(recipient, ip="203.0.113.9")


def use(keystore: Keystore, token: str) -> ResetToken | None:
    with keystore.session() as session:
        return keystore.recipients(session).use_reset_token(token)


def test_only_the_hash_of_a_token_is_stored(keystore: Keystore) -> None:
    token = issue(keystore, account(keystore))
    assert token is not None and len(token) >= 40
    with keystore.session() as session:
        (row,) = session.scalars(select(ResetToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr(row.__dict__)


def test_a_token_works_once(keystore: Keystore) -> None:
    token = issue(keystore, account(keystore))
    assert token is not None
    assert use(keystore, token) is not None
    assert use(keystore, token) is None
    assert use(keystore, "not-a-token") is None


def test_a_token_expires(keystore: Keystore, clock: FakeClock) -> None:
    with keystore.session() as session:
        keystore.settings(session).update({"reset_link_minutes": 15}, actor="admin")
    token = issue(keystore, account(keystore))
    assert token is not None
    clock.advance(minutes=15)
    assert use(keystore, token) is None


def test_racing_posts_of_one_token_claim_it_once(keystore: Keystore) -> None:
    token = issue(keystore, account(keystore))
    assert token is not None
    results: list[object] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        results.append(use(keystore, token))

    run_at_once([claim] * 4)
    assert sum(result is not None for result in results) == 1


def test_racing_wrong_answers_are_all_counted(keystore: Keystore) -> None:
    recipient_id = account(keystore)
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def guess(word: str) -> None:
        barrier.wait()
        with account_of(keystore, recipient_id) as (service, recipient):
            outcomes.append(service.check_reset_answer(recipient, word).outcome)

    run_at_once(partial(guess, f"guess {n}") for n in range(5))
    with keystore.session() as session:
        recipient = keystore.recipients(session).get_by_id(recipient_id)
        assert recipient is not None and recipient.reset_failures == 3
        assert keystore.recipients(session).reset_state(recipient) == "closed"
    # However they race, only three guesses were compared with the answer.
    assert sorted(outcomes) == ["bad", "bad", "closed", "closed", "closed"]


def test_links_per_hour_are_limited(keystore: Keystore, clock: FakeClock) -> None:
    recipient_id = account(keystore)
    assert all(issue(keystore, recipient_id) for _ in range(3))
    assert issue(keystore, recipient_id) is None
    clock.advance(hours=1, seconds=1)
    assert issue(keystore, recipient_id) is not None


def test_wrong_answers_close_the_reset_until_an_admin_reset(keystore: Keystore) -> None:
    recipient_id = account(keystore)
    with account_of(keystore, recipient_id) as (service, recipient):
        assert service.reset_state(recipient) == "open"
        outcomes = [service.check_reset_answer(recipient, "Rex").outcome for _ in range(3)]
        assert outcomes == ["bad", "bad", "closed"]
        assert service.reset_state(recipient) == "closed"
        # Even the right answer no longer helps.
        assert service.check_reset_answer(recipient, "Bello").outcome == "closed"
        service.reset_pin(recipient)
        service.set_password(recipient, "another long password")
        assert service.reset_state(recipient) == "open"
        assert service.check_reset_answer(recipient, " BELLO ").outcome == "ok"


def test_answers_are_normalized(keystore: Keystore) -> None:
    recipient_id = account(keystore, answer="Straße  am Meer")
    with account_of(keystore, recipient_id) as (service, recipient):
        # Case folding (ß = ss), spacing, and full-width letters (NFKC) do not matter.
        assert service.check_reset_answer(recipient, "STRASSE am meer").outcome == "ok"
        assert service.check_reset_answer(recipient, " ｓｔｒａｓｓｅ AM\tMEER ").outcome == "ok"


def test_an_answer_stored_in_the_older_form_still_works_and_is_rehashed(
    keystore: Keystore,
) -> None:
    recipient_id = account(keystore)
    # "ǰ" (U+01F0) folds to j + combining caron, which the older form left decomposed.
    answer = "J̌osé Ǧ"
    assert legacy_normalize_answer(answer) != normalize_answer(answer)
    with account_of(keystore, recipient_id) as (service, recipient):
        recipient.security_answer_hash = service.hasher.hash(legacy_normalize_answer(answer))
        assert service.check_reset_answer(recipient, answer).outcome == "ok"
        ok, _ = service.hasher.verify(normalize_answer(answer), recipient.security_answer_hash)
        assert ok


@pytest.mark.parametrize("days", [14, 3])
def test_pins_expire(keystore: Keystore, clock: FakeClock, days: int) -> None:
    with keystore.session() as session:
        if days != 14:
            keystore.settings(session).update({"pin_valid_days": days}, actor="admin")
        _, pin = keystore.recipients(session).get_or_create(ADDRESS, created_by="a@bank.example")
    assert pin is not None
    clock.advance(days=days, seconds=-1)
    with keystore.session() as session:
        assert keystore.recipients(session).authenticate_pin(ADDRESS, pin).outcome == "ok"
    clock.advance(seconds=1)
    with keystore.session() as session:
        service = keystore.recipients(session)
        assert service.authenticate_pin(ADDRESS, pin).outcome == "expired"
        # A new PIN from an admin counts from its own issue.
        recipient = service.get(ADDRESS)
        assert recipient is not None
        new_pin = service.reset_pin(recipient)
        assert service.authenticate_pin(ADDRESS, new_pin).outcome == "ok"


def claimed(keystore: Keystore, clock: FakeClock) -> int:
    """Issue a link for a new account and claim it now; return the reset's id."""
    token = issue(keystore, account(keystore))
    assert token is not None
    row = use(keystore, token)
    assert row is not None and row.used_at == clock()
    return int(row.id)


def active(keystore: Keystore, reset_id: int) -> bool:
    with keystore.session() as session:
        return keystore.recipients(session).active_reset(reset_id) is not None


def test_a_wrong_token_claims_no_link(keystore: Keystore) -> None:
    token = issue(keystore, account(keystore))
    assert token is not None
    assert use(keystore, "not-a-token") is None
    assert use(keystore, token) is not None  # the real link still works once


def test_a_finished_reset_link_no_longer_works(keystore: Keystore) -> None:
    recipient_id = account(keystore)
    token = issue(keystore, recipient_id)
    assert token is not None
    with keystore.session() as session:
        service = keystore.recipients(session)
        recipient = service.get_by_id(recipient_id)
        assert recipient is not None
        service.finish_resets(recipient)
    assert use(keystore, token) is None


def test_only_a_claimed_unfinished_reset_is_active(keystore: Keystore, clock: FakeClock) -> None:
    reset_id = claimed(keystore, clock)
    assert active(keystore, reset_id)
    assert not active(keystore, reset_id + 1000)
    unclaimed = issue(keystore, account(keystore))
    assert unclaimed is not None
    with keystore.session() as session:
        (row,) = session.scalars(select(ResetToken).where(ResetToken.used_at.is_(None)))
        assert keystore.recipients(session).active_reset(row.id) is None
        recipient = keystore.recipients(session).get(ADDRESS)
        assert recipient is not None
        keystore.recipients(session).unlock(recipient)  # an admin's reset ends open resets
    assert not active(keystore, reset_id)


def test_the_answer_window_ends_after_thirty_minutes(keystore: Keystore, clock: FakeClock) -> None:
    reset_id = claimed(keystore, clock)
    clock.advance(minutes=30, seconds=-1)
    assert active(keystore, reset_id)
    clock.advance(seconds=1)
    assert not active(keystore, reset_id)


def test_a_deactivated_account_has_no_active_reset(keystore: Keystore, clock: FakeClock) -> None:
    reset_id = claimed(keystore, clock)
    with keystore.session() as session:
        recipient = keystore.recipients(session).get(ADDRESS)
        assert recipient is not None
        keystore.recipients(session).set_status(recipient, "deactivated")
    assert not active(keystore, reset_id)


def test_each_answer_reports_the_count_and_the_limit(keystore: Keystore) -> None:
    recipient_id = account(keystore)
    with keystore.session() as session:
        service = keystore.recipients(session)
        recipient = service.get_by_id(recipient_id)
        assert recipient is not None
        assert service.check_reset_answer(recipient, "Rex") == ResetAnswer("bad", 1, 3)
        assert service.check_reset_answer(recipient, "Bello") == ResetAnswer("ok", 0, 3)
        assert recipient.reset_failures == 0  # a right answer starts the count afresh
        answers = [service.check_reset_answer(recipient, "Rex") for _ in range(4)]
        assert answers == [
            ResetAnswer("bad", 1, 3),
            ResetAnswer("bad", 2, 3),
            ResetAnswer("closed", 3, 3),
            ResetAnswer("closed", 3, 3),
        ]


def test_wrong_answers_count_against_their_own_account_only(keystore: Keystore) -> None:
    guessed = account(keystore)
    with keystore.session() as session:
        service = keystore.recipients(session)
        other, _ = service.get_or_create("other@example.com", created_by="adviser@bank.example")
        recipient = service.get_by_id(guessed)
        assert recipient is not None
        service.check_reset_answer(recipient, "Rex")
        session.refresh(other)
        assert (recipient.reset_failures, other.reset_failures) == (1, 0)
