"""Login sessions in tests: a second browser with a copied cookie, a session kept busy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient


def copy_of(client: FlaskClient, name: str = "webcrypt", path: str = "/") -> FlaskClient:
    """Return a second browser holding a copy of `client`'s cookie `name`."""
    cookie = client.get_cookie(name, path=path)
    assert cookie is not None
    other = client.application.test_client()
    other.set_cookie(name, cookie.value, path=path)
    return other


def busy_until_the_end(clock: Any, still_in: Callable[[], bool], *, every: int) -> None:
    """Use a session every `every` minutes for 12 hours, each time still logged in, then move
    `every` minutes past its absolute lifetime (12 h after the login)."""
    for _ in range(12 * 60 // every):
        clock.advance(minutes=every)
        assert still_in()
    clock.advance(minutes=every)
