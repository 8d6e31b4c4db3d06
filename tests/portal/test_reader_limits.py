"""The portal decompresses no message larger than the size limit the filter enforces."""

from __future__ import annotations

import os

from flask.testing import FlaskClient

from portal.reading import SEALING_ALLOWANCE
from tests.portal.helpers import build_mail, csrf_token, seal


def read(client: FlaskClient, armored: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/").data)
    return client.post("/read", data={"csrf_token": token, "envelope": armored})


def limit(runtime, size: int) -> None:  # type: ignore[no-untyped-def]
    with runtime.keystore.session() as session:
        runtime.keystore.settings(session).update({"max_message_size": size}, actor="test")
    runtime.refresh_settings()


def test_a_message_over_the_size_limit_is_not_decompressed(logged_in: FlaskClient, runtime) -> None:
    raw = build_mail(attachments=[("big.bin", "application/octet-stream", os.urandom(200_000))])
    sealed = seal(runtime, raw)
    limit(runtime, len(raw) - SEALING_ALLOWANCE - 1)
    response = read(logged_in, sealed.armored)
    assert response.status_code == 422
    assert b"big.bin" not in response.data
    limit(runtime, len(raw) - SEALING_ALLOWANCE)
    response = read(logged_in, sealed.armored)
    assert response.status_code == 200 and b"big.bin" in response.data
