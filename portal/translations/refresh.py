"""Refresh the portal's translations: extract, merge into each .po, compile the .mo files.

Run from the repository root after changing user-facing text:

    .venv/bin/python portal/translations/refresh.py

then translate the entries it lists as missing in the .po files and run it again.
The compiled .mo files are committed, so a fresh clone needs no build step.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent
PORTAL = ROOT.parent
KEYSTORE = PORTAL.parent / "keystore"
"""The keystore's validation messages (`keystore.errors.InvalidValue`) are shown on admin pages."""
LANGUAGES = ("de",)


def extract(template: Path = ROOT / "messages.pot") -> Catalog:
    """Extract every translatable string of the portal and the keystore into `template`."""
    subprocess.run(  # noqa: S603 - our own pybabel, fixed arguments
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "--no-location",
            "--sort-output",
            "-F",
            str(PORTAL / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "InvalidValue",
            "-o",
            str(template),
            str(PORTAL),
            str(KEYSTORE),
        ],
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        return read_po(handle)


def merge(template: Catalog, language: str) -> list[object]:
    """Merge `template` into the language's .po, keep translations, compile; return gaps."""
    po_path = ROOT / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        existing = read_po(handle, locale=language)
    catalog = Catalog(locale=language, project="WebCrypt", domain="messages")
    missing: list[object] = []
    for message in template:
        if not message.id:
            continue
        old = existing.get(message.id)
        string = old.string if old is not None else ("", "") if message.pluralizable else ""
        if not string or (isinstance(string, tuple) and not all(string)):
            missing.append(message.id)
        catalog.add(message.id, string)
    with po_path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True)
    with po_path.open("rb") as handle, po_path.with_suffix(".mo").open("wb") as out:
        write_mo(out, read_po(handle, locale=language))
    return missing


def main() -> int:
    """Refresh every language and list what still needs translating."""
    template = extract()
    status = 0
    for language in LANGUAGES:
        for message_id in merge(template, language):
            print(f"{language}: not translated: {message_id!r}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
