import pytest

from keystore.addresses import normalize_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Customer@Example.COM", "customer@example.com"),
        ("  <Customer@example.com>  ", "customer@example.com"),
        ("customer@example.com#secure", "customer@example.com"),
        ("<customer@example.com#SECURE>", "customer@example.com"),
        ("kunde@xn--bcher-kva.example", "kunde@bücher.example"),
        ("Kunde@BÜCHER.example", "kunde@bücher.example"),
        ("a.b+tag@sub.example.org.", "a.b+tag@sub.example.org"),
        ("root@localhost", "root@localhost"),
    ],
)
def test_normalizes(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "@example.com",
        "user@",
        "two words@example.com",
        "user@exa mple.com",
        "user@example..com",
        ".user@example.com",
        "user@xn--zz-.example",
        "x" * 65 + "@example.com",
        "a@b,c@example.com",
    ],
)
def test_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_address(raw)
