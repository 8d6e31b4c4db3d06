"""The security phrase: chosen at the first login, shown between address and password only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from portal.phrases import decoy_phrase
from tests.portal.conftest import TEST_CONFIG, first_login, login, make_runtime
from tests.portal.helpers import CUSTOMER, PASSWORD, build_mail, csrf_token, seal, submit

PHRASE = "Blue tractor"  # what tests.portal.conftest.first_login chooses


def shown_phrase(page: bytes | str) -> str | None:
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(r'<p class="phrase-text"><strong>([^<]*)</strong>', text)
    return match.group(1) if match else None


def address_step(client: FlaskClient, address: str, **extra: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "email": address, **extra}
    response = client.post("/login", data=data)
    assert response.status_code == 200, response.data[:2000]
    return response.get_data(as_text=True)


def pin_page(client: FlaskClient, runtime) -> str:  # type: ignore[no-untyped-def]
    sealed = seal(runtime, build_mail())
    page = client.get("/login/pin")
    response = client.post(
        "/login/pin",
        data={"csrf_token": csrf_token(page.data), "email": CUSTOMER, "pin": sealed.pin},
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("phrase", "problem"),
    [
        ("", "This field is required"),
        ("abc", "between 4 and 80"),
        ("zwei\nZeilen", "Line breaks"),
        (PASSWORD.upper(), "do not use your password or your answer"),
        (" bello ", "do not use your password or your answer"),
    ],
)
def test_the_first_login_needs_a_phrase_that_is_no_secret(
    client: FlaskClient, runtime, phrase: str, problem: str
) -> None:
    page = pin_page(client, runtime)
    response = submit(
        client,
        "/setup",
        page,
        new_password=PASSWORD,
        confirm=PASSWORD,
        question="first_pet",
        answer="Bello",
        phrase=phrase,
    )
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        assert recipient.password_hash is None and recipient.security_phrase is None


def test_the_login_asks_for_the_address_then_shows_the_phrase_and_the_password(
    client: FlaskClient, account: str
) -> None:
    first = client.get("/login").get_data(as_text=True)
    assert 'name="password"' not in first and shown_phrase(first) is None
    second = address_step(client, account)
    assert shown_phrase(second) == PHRASE
    assert second.index("phrase-text") < second.index('name="password"')
    assert re.search(r'<input[^>]*name="email"[^>]*readonly', second)
    assert "your browser shows the address http://127.0.0.1:8080/. Otherwise" in " ".join(
        second.split()
    )
    response = client.post(
        "/login", data={"csrf_token": csrf_token(second), "email": account, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200


def test_a_wrong_password_shows_the_phrase_again(client: FlaskClient, account: str) -> None:
    response = login(client, password="wrong password 1")
    assert response.status_code == 401
    assert shown_phrase(response.data) == PHRASE


def test_another_address_goes_back_to_the_first_step(client: FlaskClient, account: str) -> None:
    second = address_step(client, account)
    response = submit(client, "/login", second, email=account, password="", other_address="1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and shown_phrase(page) is None
    assert 'name="password"' not in page and account not in page


def test_an_invalid_address_stays_on_the_first_step(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": csrf_token(page), "email": ""})
    assert response.status_code == 400
    assert shown_phrase(response.data) is None


def _normalized(page: str, address: str) -> str:
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)
    page = re.sub(r'(<p class="phrase-text"><strong>)[^<]*(</strong>)', r"\1PHRASE\2", page)
    return page.replace(address, "ADDRESS")


@pytest.mark.parametrize("other", ["nobody@example.org", "neu@example.com"])
def test_unknown_and_pending_addresses_get_a_stable_decoy_that_looks_alike(
    client: FlaskClient, runtime, account: str, other: str
) -> None:
    seal(runtime, build_mail(), to="neu@example.com")  # an account still waiting for its PIN
    known = address_step(client, account)
    decoy_page = address_step(client, other)
    decoy = shown_phrase(decoy_page)
    assert decoy and decoy != PHRASE
    assert re.fullmatch(r"[A-ZÄÖÜ][\w]+ [\wäöüß]+", decoy)
    assert _normalized(known, account) == _normalized(decoy_page, other)
    # The same on every visit, in another spelling and in the other language.
    assert shown_phrase(address_step(client, other.upper())) == decoy
    client.get("/language/de")
    assert shown_phrase(address_step(client, other)) == decoy


def test_decoys_depend_on_the_secret_key_and_the_address() -> None:
    decoys = {decoy_phrase(f"user{n}@example.org", b"key one") for n in range(200)}
    assert len(decoys) > 100  # spread over the word lists
    assert any(" " in d and d.split()[0].endswith(("e", "er", "es")) for d in decoys)
    assert decoy_phrase("a@example.org", b"key one") != decoy_phrase("a@example.org", b"key two")
    assert decoy_phrase("A@Example.org ", b"k") == decoy_phrase("a@example.org", b"k")


def test_the_carried_envelope_names_the_address_so_the_phrase_shows_at_once(
    client: FlaskClient, runtime, account: str
) -> None:
    sealed = seal(runtime, build_mail())
    response = client.post("/open", data={"envelope": sealed.armored})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert shown_phrase(page) == PHRASE and 'name="password"' in page


def test_an_account_from_before_phrases_gets_a_decoy_and_is_asked_to_choose(
    client: FlaskClient, runtime, account: str
) -> None:
    with runtime.keystore.session() as session:
        service = runtime.keystore.recipients(session)
        service.set_security_phrase(service.get(account), None)
    page = address_step(client, account)
    decoy = shown_phrase(page)
    assert decoy and decoy != PHRASE  # the same answer as for an unknown address
    response = login(client)
    assert response.status_code == 302
    assert "Please choose your security phrase" in client.get("/profile").get_data(as_text=True)


def test_the_phrase_page_is_not_framed_leaks_no_referrer_and_keeps_https(
    tmp_path: Path, clock
) -> None:
    from portal import create_app

    runtime = make_runtime(
        tmp_path, clock, WEBCRYPT_PORTAL_PUBLIC_URL="https://secure.bank.example"
    )
    try:
        client = create_app(runtime, dict(TEST_CONFIG)).test_client()
        base = "https://secure.bank.example"
        sealed = seal(runtime, build_mail())
        assert sealed.pin
        first_login(client, sealed.pin)
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/", base_url=base).data)})
        page = client.get("/login", base_url=base)
        response = client.post(
            "/login",
            data={"csrf_token": csrf_token(page.data), "email": CUSTOMER},
            base_url=base,
        )
        assert shown_phrase(response.data) == PHRASE
        assert "https://secure.bank.example/" in response.get_data(as_text=True)
        for checked in (page, response):
            headers = checked.headers
            assert headers["Referrer-Policy"] == "no-referrer"
            assert headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            assert "max-age=" in headers["Strict-Transport-Security"]
    finally:
        runtime.close()


def test_the_password_step_is_labelled(client: FlaskClient, account: str) -> None:
    from tests.portal.test_accessibility import check

    page = address_step(client, account)
    check(page)
    assert '<h2 id="phrase-title">Your security phrase</h2>' in page


def test_a_phrase_with_markup_is_shown_as_text(client: FlaskClient, runtime, account: str) -> None:
    with runtime.keystore.session() as session:
        service = runtime.keystore.recipients(session)
        service.set_security_phrase(service.get(account), '<img src=x onerror="alert(1)">')
    page = address_step(client, account)
    assert "<img src=x" not in page
    assert shown_phrase(page) == "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
