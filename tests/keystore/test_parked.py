"""Parked envelopes: taken back once with the token, never after expiry, large ones too."""

from __future__ import annotations

from keystore.db import Keystore
from keystore.models import ParkedEnvelope
from tests.keystore.conftest import FakeClock


def test_a_parked_envelope_is_taken_back_once(keystore: Keystore) -> None:
    envelope = "-----BEGIN WEBCRYPT ENVELOPE-----\n" + "A" * 3_000_000 + "\n-----END"
    with keystore.session() as session:
        token = keystore.parked(session).park(envelope)
    with keystore.session() as session:
        stored = session.query(ParkedEnvelope).one()
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        assert keystore.parked(session).take("wrong token") is None
    with keystore.session() as session:
        assert keystore.parked(session).take(token) == envelope
    with keystore.session() as session:
        assert keystore.parked(session).take(token) is None
        assert session.query(ParkedEnvelope).count() == 0


def test_an_expired_envelope_is_not_given_back_and_is_cleared(
    keystore: Keystore, clock: FakeClock
) -> None:
    with keystore.session() as session:
        old = keystore.parked(session).park("old", minutes=15)
    clock.advance(minutes=16)
    with keystore.session() as session:
        keystore.parked(session).park("new")
        assert session.query(ParkedEnvelope).count() == 1  # the expired one went
        assert keystore.parked(session).take(old) is None
