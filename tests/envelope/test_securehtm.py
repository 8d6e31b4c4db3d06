"""secure.htm: self-contained, 7-bit clean, bilingual, and it carries the envelope intact."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest

from tests.envelope.conftest import recipient, seal_for
from webcrypt.envelope import Header, open, parse
from webcrypt.sealing.branding import DEFAULT_COLOR, Branding, logo_data_uri, safe_color
from webcrypt.sealing.securehtm import extract_envelope, render_secure_htm

ALICE = recipient("alice")


def sealed(message: bytes = b"Subject: hi\r\n\r\nbody", **options: object) -> tuple[str, Header]:
    result = seal_for(message, [ALICE], **options)
    return result.armored(ALICE.address), result.headers[ALICE.address]


class Page(HTMLParser):
    """Collect what matters about a rendered page: tags, attributes, form fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.textarea = ""
        self._in_textarea = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_textarea = tag == "textarea"

    def handle_endtag(self, tag: str) -> None:
        self._in_textarea = False

    def handle_data(self, data: str) -> None:
        if self._in_textarea:
            self.textarea += data

    def find(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_form_posts_the_envelope_to_the_portal() -> None:
    armored, header = sealed(portal_url="https://secure.bank.example/")
    page = Page(render_secure_htm(armored, header))
    [form] = page.find("form")
    assert form["method"] == "post"
    assert form["action"] == "https://secure.bank.example/open"
    assert form["enctype"] == "multipart/form-data"
    [field] = page.find("textarea")
    assert field["name"] == "envelope"
    assert "hidden" in field
    # a browser drops the newline right after <textarea>, as HTML says; this parser keeps it
    assert page.textarea == "\n" + armored.rstrip("\n")
    buttons = page.find("button")
    assert {button["value"] for button in buttons} == {"en", "de"}
    assert all(button["type"] == "submit" for button in buttons)


def test_self_contained_without_scripts() -> None:
    armored, header = sealed()
    html = render_secure_htm(armored, header, branding=Branding(logo_data_uri=_PNG_URI))
    page = Page(html)
    assert not page.find("script") and not page.find("link") and not page.find("iframe")
    assert all(attrs["src"].startswith("data:image/") for attrs in page.find("img"))  # type: ignore[union-attr]
    assert "url(" not in html and "@import" not in html
    assert re.search(r"<meta name=\"viewport\" content=\"width=device-width", html)


def test_output_is_seven_bit_and_names_become_entities() -> None:
    armored, header = sealed(sender="jürgen.müller@bänk.example")
    html = render_secure_htm(armored, header, lang="de")
    assert all(byte < 128 for byte in html.encode("ascii"))
    assert "j&#252;rgen.m&#252;ller@b&#228;nk.example" in html
    assert "verschl&#252;sselte Nachricht" in html


def test_says_what_it_is_in_english_and_german() -> None:
    armored, header = sealed()
    html = " ".join(render_secure_htm(armored, header).split())
    for text in [
        "You have received a secure message",
        "Sie haben eine sichere Nachricht erhalten",
        "adviser@bank.example",
        "2 June 2025 at 08:00 UTC",
        "2. Juni 2025, 08:00 UTC",
        "2 July 2025 at 08:00 UTC",
        "2. Juli 2025, 08:00 UTC",
        "https://secure.bank.example/upload",
        "never asks for your password",
        "fragt nie nach Ihrem Passwort",
    ]:
        assert text in html, text


def test_primary_language_comes_first() -> None:
    armored, header = sealed()
    english = render_secure_htm(armored, header, lang="en")
    german = render_secure_htm(armored, header, lang="de")
    assert english.index('lang="en"', 20) < english.index('<section lang="de"')
    assert german.index('<section lang="de"') < german.index('<section lang="en"')
    assert '<html lang="de">' in german
    assert '<html lang="en">' in render_secure_htm(armored, header, lang="fr")


def test_names_the_portal_as_the_only_place_for_the_password() -> None:
    armored, header = sealed()
    html = " ".join(render_secure_htm(armored, header).split())
    assert "Only enter your password on <b>https://secure.bank.example/</b>" in html
    assert "Geben Sie Ihr Passwort nur auf <b>https://secure.bank.example/</b> ein" in html
    assert "that page shows the personal security phrase you chose" in html


def test_the_security_phrase_is_never_put_in_the_file() -> None:
    # A forwarded file must not help anyone forge a convincing one: the phrase is shown by
    # the portal only, so the renderer has no way to put it in.
    armored, header = sealed()
    with pytest.raises(TypeError):
        render_secure_htm(armored, header, security_phrase="blue whale")  # type: ignore[call-arg]


def test_everything_from_outside_is_escaped() -> None:
    armored, header = sealed(sender='"><script>alert(1)</script>@x.example')
    html = render_secure_htm(
        armored,
        header,
        branding=Branding(
            product_name="<b>Bank</b>",
            brand_color="red;}body{background:url(https://evil.example)",
            footer="<a href=https://evil.example>x</a>",
        ),
    )
    assert (
        "<script" not in html
        and "<img" not in html
        and "evil.example" not in html.split("<footer>")[0]
    )
    assert "&lt;script&gt;" in html and "&lt;b&gt;Bank&lt;/b&gt;" in html
    assert f"border-top:6px solid {DEFAULT_COLOR}" in html


def test_rejects_text_that_is_not_armor() -> None:
    _, header = sealed()
    for bad in ["</textarea><script>", "caf\u00e9", "a&b"]:
        with pytest.raises(ValueError):
            render_secure_htm(bad, header)


def test_the_rendered_file_opens_again() -> None:
    message = b"Subject: Vertrag\r\n\r\n" + bytes(range(256)) * 100
    armored, header = sealed(message)
    html = render_secure_htm(armored, header)
    assert open(parse(extract_envelope(html.encode("ascii"))), ALICE.key) == message


_PNG_URI = logo_data_uri(b"\x89PNG\r\n\x1a\nfake", "image/png")


def test_branding_from_settings() -> None:
    class Settings:
        product_name = "Bank Secure"
        brand_color = "#AA0011"
        logo_png = b"\x89PNG\r\n\x1a\nfake"
        logo_mime = "image/png"
        footer_en, footer_de = "Footer", "Fu\u00dfzeile"
        contact_en, contact_de = "Call us", "Rufen Sie uns an"

    english = Branding.from_settings(Settings(), "en")
    german = Branding.from_settings(Settings(), "de")
    assert english.product_name == "Bank Secure" and english.brand_color == "#AA0011"
    assert english.logo_data_uri == _PNG_URI
    assert (english.footer, english.contact) == ("Footer", "Call us")
    assert (german.footer, german.contact) == ("Fu\u00dfzeile", "Rufen Sie uns an")
    assert Branding.from_settings(Settings(), "xx").footer == "Footer"


@pytest.mark.parametrize("color", ["", "red", "#12345", "#1234567", "#12345g", "#fff;x"])
def test_unsafe_colours_fall_back(color: str) -> None:
    assert safe_color(color) == DEFAULT_COLOR
    assert Branding(brand_color=color).brand_color == DEFAULT_COLOR


def test_logo_must_be_an_image_data_uri() -> None:
    assert logo_data_uri(b"<svg onload=x>", "image/svg+xml") == ""
    assert logo_data_uri(b"", "image/png") == ""
    assert Branding(logo_data_uri="https://evil.example/logo.png").logo_data_uri == ""
    assert Branding(product_name="  ").product_name == "WebCrypt"


def test_lines_stay_short_whatever_the_inputs() -> None:
    armored, header = sealed(sender="ä" * 200 + "@" + "b" * 300 + ".example")
    html = render_secure_htm(
        armored,
        header,
        branding=Branding(
            product_name="Bänk " * 30,
            footer="Fußzeile mit vielen Wörtern " * 80,
            contact="x" * 2000,
            logo_data_uri=logo_data_uri(os.urandom(50_000), "image/png"),
        ),
        lang="de",
    )
    assert max(len(line) for line in html.splitlines()) <= 200
    assert html.isascii()


def _rendered_directly(armored: str, header: Header, branding: Branding, lang: str) -> str:
    """secure.htm rendered from the template with every value, as one pass."""
    from urllib.parse import urlsplit

    from webcrypt.sealing import securehtm

    portal = header.portal_url.rstrip("/")
    html = securehtm._environment.get_template(securehtm.TEMPLATE).render(
        lang=lang,
        version=header.version,
        sender=header.sender,
        recipient=header.recipient,
        created=securehtm._dates(header.created),
        expires=securehtm._dates(header.expires),
        portal=portal,
        host=urlsplit(portal).hostname or portal,
        origin=portal + "/",
        action=f"{portal}/open",
        upload=f"{portal}/upload",
        product=branding.product_name,
        color=branding.brand_color,
        logo=securehtm.wrap_data_uri(branding.logo_data_uri),
        contact=branding.contact,
        footer=branding.footer,
        envelope="ENVELOPE-GOES-HERE",
    )
    html = html.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return html.replace("ENVELOPE-GOES-HERE", armored.rstrip("\n"))


@pytest.mark.parametrize(
    ("sender", "footer", "lang"),
    [
        ("adviser@bank.example", "", "en"),
        ('"Jörg <&> Müller"@bänk.example', "Bänk & Co <i>", "de"),
        ("a" * 150 + "@bank.example", "Straße " * 40, "en"),
    ],
)
def test_cached_page_equals_the_template_rendered_in_one_pass(
    sender: str, footer: str, lang: str
) -> None:
    import dataclasses

    armored, header = sealed()
    header = dataclasses.replace(header, sender=sender)
    branding = Branding(product_name="Bänk Secure", footer=footer, contact="☎ 0800 <1>")
    for _ in range(2):  # the second call is served from the cache
        assert render_secure_htm(
            armored, header, branding=branding, lang=lang
        ) == _rendered_directly(armored, header, branding, lang)
