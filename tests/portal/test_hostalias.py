"""Earlier public addresses: requests to an alias host go on to the public URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.hostalias import AliasRedirect, host_key
from tests.portal.conftest import TEST_CONFIG, guarded_runtime
from tests.portal.helpers import CUSTOMER, FakeClock, build_mail, hidden, seal
from webcrypt.runtime import Runtime

NEW = "https://portal.bank.example"
OLD = "https://secure.bank-old.example,http://10.0.0.5:8080"


@pytest.fixture
def moved(tmp_path: Path) -> Iterator[Runtime]:
    environ = {"WEBCRYPT_PORTAL_PUBLIC_URL": NEW, "WEBCRYPT_PORTAL_PUBLIC_URL_ALIASES": OLD}
    with guarded_runtime(tmp_path, FakeClock(), **environ) as built:
        yield built


@pytest.fixture
def moved_app(moved: Runtime) -> Flask:
    from portal import create_app

    return create_app(moved, dict(TEST_CONFIG))


def test_alias_option_is_read(moved: Runtime) -> None:
    assert moved.config.portal.public_url_aliases == (
        "https://secure.bank-old.example",
        "http://10.0.0.5:8080",
    )


def test_get_on_an_alias_is_moved_permanently_with_path_and_query(moved_app: Flask) -> None:
    client = moved_app.test_client()
    response = client.get(
        "/inbox/abc123?lang=de&x=%C3%A4", base_url="https://secure.bank-old.example"
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"{NEW}/inbox/abc123?lang=de&x=%C3%A4"
    head = client.head("/", base_url="http://10.0.0.5:8080")
    assert head.status_code == 301 and head.headers["Location"] == f"{NEW}/"


def test_post_from_an_old_secure_htm_keeps_method_and_body(moved_app: Flask, moved) -> None:
    sealed = seal(moved, build_mail())
    client = moved_app.test_client()
    response = client.post(
        "/open",
        data={"envelope": sealed.armored},
        base_url="https://secure.bank-old.example",
        headers={"Origin": "null"},
    )
    assert response.status_code == 308
    assert response.headers["Location"] == f"{NEW}/open"
    followed = client.post(
        "/open", data={"envelope": sealed.armored}, base_url=NEW, headers={"Origin": "null"}
    )
    # The browser posts the same body to the new address: the login page, carrying it.
    assert followed.status_code == 200
    assert hidden(followed.data, "envelope") == sealed.armored.strip()
    assert f'value="{CUSTOMER}"'.encode() in followed.data


def test_the_public_host_and_unknown_hosts_are_served(moved_app: Flask) -> None:
    client = moved_app.test_client()
    assert client.get("/", base_url=NEW).status_code == 200
    assert client.get("/", base_url="http://localhost").status_code == 200
    # Another port of an alias host is not the alias.
    assert client.get("/", base_url="http://10.0.0.5:9090").status_code == 200


def test_without_aliases_nothing_redirects(client: FlaskClient) -> None:
    assert client.get("/", base_url="https://secure.bank-old.example").status_code == 200


def test_host_keys_fill_in_the_default_port() -> None:
    assert host_key("Secure.Bank-Old.Example", "https") == "secure.bank-old.example:443"
    assert host_key("secure.bank-old.example:443", "https") == "secure.bank-old.example:443"
    assert host_key("[::1]:8080", "http") == "::1:8080"
    assert host_key("host:notaport", "http") == ""


def test_the_public_url_itself_is_never_an_alias() -> None:
    middleware = AliasRedirect(lambda environ, start: [], NEW, [NEW, "https://old.example"])
    assert middleware.hosts == {"old.example:443"}
