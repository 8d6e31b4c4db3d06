"""The corpus on disk is what the generator writes, and its expectations hold up.

The expectations (texts to show, bytes to download) come from what the generator put into
each message. Here they are checked against an independent reading of the same bytes: the
standard library's compat32 parser with a careful charset fallback. A generator bug that
made an expectation unreachable would show up here, not as a false failure of the product.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.message import Message

import pytest

from tests.corpus.build import MANIFEST, MESSAGES, catalogue, differences
from tests.corpus.mime import Download, Shown

SPECS = catalogue()


def test_files_are_what_the_generator_writes() -> None:
    assert differences(SPECS) == []


def test_manifest_documents_every_message() -> None:
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["messages"]
    assert sorted(entries) == sorted(s.name for s in SPECS)
    assert sorted(p.stem for p in MESSAGES.glob("*.eml")) == sorted(entries)
    for name, entry in entries.items():
        assert entry["source"].strip(), name
        assert entry["exercises"].strip(), name
        assert entry["trigger"] in ("envelope", "subject"), name


def test_every_defect_class_is_covered() -> None:
    covered = {defect for spec in SPECS for defect in spec.defects}
    assert covered >= set(range(1, 14))
    assert len(SPECS) >= 60


def test_trigger_word_only_where_the_subject_triggers() -> None:
    for spec in SPECS:
        assert ("webcrypt" in spec.subject.lower()) == (spec.trigger == "subject"), spec.name


def collapse(text: str) -> str:
    """Text with every run of white space made one space."""
    return " ".join(text.split())


def careful_decode(data: bytes, charset: str | None) -> str:
    """Decode body bytes: the declared charset, then UTF-8, then windows-1252."""
    for name in (charset, "utf-8", "cp1252"):
        if not name:
            continue
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # a damaged parameter: the fallback decides
        return None


def independent_reading(raw: bytes) -> tuple[list[str], list[bytes]]:
    """Texts and leaf payloads of a message, read with compat32 (no product code)."""
    texts: list[str] = []
    blobs: list[bytes] = []
    for part in message_from_bytes(raw, policy=policy.compat32).walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        blobs.append(data)
        if part.get_content_maintype() == "text":
            texts.append(collapse(careful_decode(data, _charset(part))))
    return texts, blobs


CHECKABLE = [s for s in SPECS if "unparseable-by-stdlib" not in s.tags]


@pytest.mark.parametrize("spec", CHECKABLE, ids=[s.name for s in CHECKABLE])
def test_expectations_agree_with_an_independent_reading(spec) -> None:
    texts, blobs = independent_reading(spec.raw)
    joined = " | ".join(texts)
    for item in spec.expect:
        if isinstance(item, Shown) and not item.html:
            # Fallback decoding of a damaged charset is the product's rule, not compat32's.
            if 8 in spec.defects:
                continue
            assert collapse(item.text) in joined
        elif isinstance(item, Download) and not item.content_type.startswith("message/"):
            # message/* payloads are parsed by compat32, so their bytes are not at hand here.
            assert item.data in blobs or bool(item.inner), item.content_type
