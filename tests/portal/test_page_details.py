"""Details of the pages a customer would stumble over: errors tied to their fields, the
password that equals the address, the favicon, error pages, empty rows, dates."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.portal.helpers import CUSTOMER, build_mail, csrf_token, seal


def setup_page(client: FlaskClient, runtime) -> tuple[str, str]:
    sealed = seal(runtime, build_mail())
    page = client.get("/login/pin")
    setup = client.post(
        "/login/pin",
        data={"csrf_token": csrf_token(page.data), "email": sealed.recipient, "pin": sealed.pin},
    )
    return csrf_token(setup.data), sealed.armored


def test_the_password_may_not_be_the_address_and_the_error_is_tied_to_its_field(
    client: FlaskClient, runtime
) -> None:
    token, _ = setup_page(client, runtime)
    for password in (CUSTOMER, CUSTOMER.upper(), f" {CUSTOMER} "):
        page = client.post(
            "/setup",
            data={
                "csrf_token": token,
                "new_password": password,
                "confirm": password,
                "question": "first_pet",
                "answer": "Bello",
                "phrase": "Blue tractor",
            },
        )
        assert page.status_code == 400
        html = page.get_data(as_text=True)
        field = re.search(r"<input[^>]*id=\"new_password\"[^>]*>", html)
        assert field, html
        assert 'aria-invalid="true"' in field.group(0)
        described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
        assert described and "new_password-error" in described.group(1).split()
        error = re.search(r'id="new_password-error">([^<]+)<', html)
        assert error and "email address" in error.group(1)


def test_the_favicon_is_served_with_a_long_cache(client: FlaskClient) -> None:
    for path in ("/favicon.ico", "/favicon.svg"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.content_type.startswith("image/svg+xml")
        assert b"<svg" in response.data
        assert "max-age=31536000" in response.headers["Cache-Control"]
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
    assert 'rel="icon"' in client.get("/admin/login").get_data(as_text=True)


def test_error_pages_say_what_happened_and_what_to_do(client: FlaskClient) -> None:
    pages = {
        404: client.get("/no-such-page"),
        405: client.get("/reply"),
        400: client.post("/login", data={"email": CUSTOMER}),
    }
    for status, page in pages.items():
        assert page.status_code == status
        text = page.get_data(as_text=True)
        assert "Something went wrong" not in text
        assert "start page" in text, status


def test_a_deactivated_customer_is_told_so_only_after_the_right_password(
    client: FlaskClient, runtime, account: str
) -> None:
    from tests.portal.conftest import PASSWORD, login

    with runtime.keystore.session() as session:
        service = runtime.keystore.recipients(session)
        service.set_status(service.get(account), "deactivated")
    wrong = login(client, password="not the password 9")
    assert wrong.status_code == 401
    assert "deactivated" not in wrong.get_data(as_text=True)
    right = login(client, password=PASSWORD)
    assert right.status_code == 403
    text = right.get_data(as_text=True)
    assert "This account is deactivated" in text and "adviser" in text
    assert 'role="alert"' in text


def test_the_message_view_has_no_empty_rows_and_one_date_format(
    logged_in: FlaskClient, runtime
) -> None:
    from email.message import EmailMessage

    bare = EmailMessage()
    bare["From"] = "berater@bank.example"
    bare["Subject"] = "Ohne Datum"
    bare.set_content("Text")
    sealed = seal(runtime, bare.as_bytes())
    page = logged_in.post(
        "/read",
        data={"csrf_token": csrf_token(logged_in.get("/").data), "envelope": sealed.armored},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:1000]
    assert ">Date<" not in html and ">To<" not in html
    assert re.search(r"<dd>\s*</dd>", html) is None

    dated = seal(runtime, build_mail(subject="Mit Datum"))
    for lang, expected in (("en", " at "), ("de", ", ")):
        logged_in.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        html = logged_in.post(
            "/read",
            data={"csrf_token": csrf_token(logged_in.get("/").data), "envelope": dated.armored},
        ).get_data(as_text=True)
        shown = re.search(r"<dd>([^<]*UTC)</dd>", html)
        assert shown and expected in shown.group(1), html[:3000]
        assert re.search(r"\d{4}-\d\d-\d\d", shown.group(1)) is None


def test_the_message_page_reads_in_a_sensible_order(logged_in: FlaskClient, runtime) -> None:
    sealed = seal(
        runtime,
        build_mail(
            subject="Ihr Vertrag",
            body="Guten Tag",
            attachments=[("Vertrag.pdf", "application/pdf", b"%PDF")],
        ),
    )
    html = logged_in.post(
        "/read",
        data={"csrf_token": csrf_token(logged_in.get("/").data), "envelope": sealed.armored},
    ).get_data(as_text=True)
    main = html[html.index('<main id="main"') :]
    order = [
        main.index('<h1 id="subject">'),
        main.index('<dl class="headers">'),
        main.index('class="mail-text"'),
        main.index(">Attachments</h2>"),
        main.index(">Reply</button>"),
    ]
    assert order == sorted(order)
    assert html.index('<a class="skip" href="#main">') < html.index("<main")
    assert main.count("<h1") == 1


def test_a_form_with_errors_says_so_at_its_top(client: FlaskClient, runtime) -> None:
    token, _ = setup_page(client, runtime)
    page = client.post("/setup", data={"csrf_token": token, "new_password": "short"})
    html = page.get_data(as_text=True)
    summary = html.index("please correct the fields marked below")
    assert html.rfind('role="alert"', 0, summary) > html.index("<h1")
    assert summary < html.index('id="new_password-error"')
