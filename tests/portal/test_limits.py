"""Rate limits and CSRF exemptions are declared on their views and checked at start-up."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from portal import create_app, reader
from portal.extensions import LIMITS, UnknownLimit, csrf_exempt, declared_limits, limited
from tests.portal.conftest import TEST_CONFIG
from tests.portal.helpers import csrf_token
from webcrypt.runtime import Runtime

#: Every view that must be limited per client address, with the name of its limit.
LIMITED = [
    ("/upload", "upload"),
    ("/open", "open"),
    ("/login", "login"),
    ("/login/pin", "login"),
    ("/forgot", "login"),
    ("/forgot/answer", "login"),
    ("/profile/password", "login"),
    ("/profile/question", "login"),
    ("/reply/send", "send"),
    ("/write", "send"),
    ("/admin/login", "admin_login"),
    ("/admin/login/factor", "admin_login"),
]


@pytest.mark.parametrize(("url", "name"), LIMITED)
def test_the_view_is_limited_per_address(runtime: Runtime, url: str, name: str) -> None:
    config = {**TEST_CONFIG, **{key: "1000 per minute" for key, _ in LIMITS.values()}}
    config[LIMITS[name][0]] = "2 per minute"
    client: FlaskClient = create_app(runtime, config).test_client()
    token = csrf_token(client.get("/admin/login" if url.startswith("/admin") else "/login").data)
    statuses = [client.post(url, data={"csrf_token": token}).status_code for _ in range(3)]
    assert 429 not in statuses[:2] and statuses[2] == 429, statuses
    # The limit counts per address: another client is not refused.
    other = client.application.test_client()
    other_ip = {"REMOTE_ADDR": "192.0.2.7"}
    token = csrf_token(
        other.get(
            "/admin/login" if url.startswith("/admin") else "/login", environ_base=other_ip
        ).data
    )
    response = other.post(url, data={"csrf_token": token}, environ_base=other_ip)
    assert response.status_code != 429


def test_a_misspelled_limit_stops_the_app(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    misspelled = declared_limits(limited("uplaod")(lambda: None))
    monkeypatch.setattr(reader.upload, "portal_rate_limits", misspelled)
    with pytest.raises(UnknownLimit, match=r"reader\.upload declares the rate limit 'uplaod'"):
        create_app(runtime, dict(TEST_CONFIG))


def test_the_cross_site_open_is_exempt_from_csrf_and_nothing_else(client: FlaskClient) -> None:
    assert client.post("/open", data={"envelope": ""}).status_code == 302
    assert client.post("/upload", data={}).status_code == 400
    assert client.post("/login", data={"email": "a@b.example", "password": "x"}).status_code == 400


def test_the_declarations_are_plain_attributes() -> None:
    def view() -> str:
        return ""

    assert csrf_exempt(limited("open")(view)) is view
    assert [declared.name for declared in declared_limits(view)] == ["open"]
