"""One German term per concept: no variant from docs/glossary.md in German texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "portal/translations/de/LC_MESSAGES/messages.po"
GERMAN_TEMPLATES = [
    *sorted((ROOT / "webcrypt/templates").rglob("*.de.*")),
    ROOT / "webcrypt/templates/secure.htm.j2",
]


def banned() -> list[str]:
    """The variants in the last column of the glossary's table."""
    found = []
    for line in (ROOT / "docs/glossary.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("concept (English)", "---") and cells[2] != "—":
            found += [word.strip() for word in cells[2].split(",") if word.strip()]
    return found


def german_texts() -> list[tuple[str, str]]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="de")
    texts = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        texts += [(f"messages.po: {message.id!r}", text) for text in strings if text]
    texts += [(str(path.relative_to(ROOT)), path.read_text()) for path in GERMAN_TEMPLATES]
    return texts


def whole_word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@./-]){re.escape(word)}(?![\w-])")


def test_the_glossary_bans_variants() -> None:
    words = banned()
    assert {"Kennwort", "Mail", "Absender", "Sicherheitssatz", "einloggen"} <= set(words)


@pytest.mark.parametrize("word", banned())
def test_no_banned_variant_in_german_texts(word: str) -> None:
    pattern = whole_word(word)
    found = [where for where, text in german_texts() if pattern.search(text)]
    assert not found, f"{word!r} (see docs/glossary.md) in {found}"


def test_a_variant_is_found() -> None:
    assert whole_word("Mail").search("Öffnen Sie die Mail")
    assert not whole_word("Mail").search("Öffnen Sie die E-Mail an kunde@mail.example")
