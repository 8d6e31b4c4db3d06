"""Write the corpus: every message of `tests/corpus/messages/` and `manifest.json`.

Run ``python -m tests.corpus.build`` to regenerate (deterministic: the same bytes every time)
or ``python -m tests.corpus.build --check`` to verify the files on disk. The shapes live in
the ``shapes_*`` modules; `catalogue()` collects them in a fixed order.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.corpus.mime import CRLF, Download, Expectation, Part, Shown, message

HERE = Path(__file__).parent
MESSAGES = HERE / "messages"
MANIFEST = HERE / "manifest.json"

ADVISER = "adviser@bank.example"
"""The envelope and From address of the bank's adviser (internal in the filter harness)."""
CUSTOMER = "kunde@example.com"
"""The external recipient every triggered corpus message is sealed for."""


@dataclass
class Spec:
    """One corpus message and what the oracle checks about it.

    `trigger` says how the oracle asks for encryption without editing the bytes: "envelope"
    (the recipient is given as ``kunde@example.com#secure`` in RCPT TO) or "subject" (the
    Subject already carries the trigger word; then `subject_after` is what the read page
    shows once the filter removed it). `shown` lists header texts (decoded) that the read
    page must show; `subject` is the decoded Subject.
    """

    name: str
    raw: bytes
    expect: list[Expectation]
    source: str
    exercises: str
    subject: str
    shown: tuple[str, ...] = ()
    defects: tuple[int, ...] = ()
    trigger: str = "envelope"
    subject_after: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file(self) -> str:
        """Path of the message relative to tests/corpus."""
        return f"messages/{self.name}.eml"

    def manifest(self) -> dict[str, object]:
        """The manifest entry: provenance, purpose and a summary of the expectations."""
        texts = [e for e in self.expect if isinstance(e, Shown)]
        files = [e for e in self.expect if isinstance(e, Download)]
        return {
            "file": self.file,
            "source": self.source,
            "exercises": self.exercises,
            "defects": list(self.defects),
            "tags": list(self.tags),
            "trigger": self.trigger,
            "size": len(self.raw),
            "line_ends": line_ends(self.raw),
            "subject": self.subject,
            "subject_after_trigger": self.subject_after
            if self.subject_after is not None
            else self.subject,
            "shown_headers": list(self.shown),
            "texts": [{"html": t.html, "chars": len(t.text)} for t in texts],
            "downloads": [
                {"content_type": f.content_type, "size": len(f.data), "sha256": f.sha256}
                for f in files
            ],
        }


def line_ends(raw: bytes) -> str:
    """Name the line ends a message uses: CRLF, LF, CR or mixed."""
    crlf = raw.count(b"\r\n")
    lf = raw.count(b"\n") - crlf
    cr = raw.count(b"\r") - crlf
    kinds = [name for name, count in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if count]
    return kinds[0] if len(kinds) == 1 else "mixed" if kinds else "none"


def headers(
    subject: str | bytes,
    *,
    sender: str | bytes = f"Berta Berater <{ADVISER}>",
    to: str | bytes = f"Karl Kunde <{CUSTOMER}>",
    date: str = "Mon, 23 Nov 2026 09:00:00 +0100",
    message_id: str | None = None,
    mime: bool = True,
    extra: list[tuple[str, str | bytes]] | None = None,
    first: list[tuple[str, str | bytes]] | None = None,
) -> list[tuple[str, str | bytes]]:
    """The usual top-level fields, in the order most clients write them."""
    fields: list[tuple[str, str | bytes]] = [*(first or [])]
    fields += [("From", sender), ("To", to), ("Subject", subject), ("Date", date)]
    if message_id is not None:
        fields.append(("Message-ID", f"<{message_id}>"))
    if mime:
        fields.append(("MIME-Version", "1.0"))
    return fields + (extra or [])


def mail(
    name: str,
    subject: str | bytes,
    body: Part,
    *,
    source: str,
    exercises: str,
    decoded: str | None = None,
    subject_after: str | None = None,
    shown: tuple[str, ...] = (),
    defects: tuple[int, ...] = (),
    tags: tuple[str, ...] = (),
    eol: bytes = CRLF,
    **fields: Any,
) -> Spec:
    """A corpus message: the usual top-level fields (`headers`) around the entity `body`.

    `fields` are further keywords of `headers` (message_id, sender, to, extra, ...).
    `decoded` is the Subject as a reader sees it, where `subject` is raw bytes or encoded
    words; `subject_after` makes the Subject carry the trigger word and says what remains.
    """
    raw, expect = message(headers(subject, **fields), body, eol=eol)
    if decoded is None:
        assert isinstance(subject, str), f"{name}: a bytes Subject needs decoded="
        decoded = subject
    return Spec(
        name,
        raw,
        expect,
        source,
        exercises,
        decoded,
        shown,
        defects,
        "envelope" if subject_after is None else "subject",
        subject_after,
        tags,
    )


def catalogue() -> list[Spec]:
    """Every corpus message, in a fixed order; names are unique."""
    from tests.corpus import (
        shapes_charsets,
        shapes_clients,
        shapes_defects,
        shapes_structure,
    )

    specs: list[Spec] = []
    for module in (shapes_defects, shapes_charsets, shapes_clients, shapes_structure):
        specs.extend(module.specs())
    names = [s.name for s in specs]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"duplicate corpus names: {sorted(duplicates)}"
    return specs


def manifest(specs: list[Spec]) -> bytes:
    """The manifest file's bytes."""
    doc = {
        "about": (
            "WebCrypt's fidelity corpus: every message, where its shape comes from, what it "
            "exercises and what a reader must get out of it. Written by tests/corpus/build.py."
        ),
        "messages": {s.name: s.manifest() for s in specs},
    }
    return (json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode()


def write(specs: list[Spec]) -> None:
    """Write every message and the manifest; remove messages no longer in the catalogue."""
    MESSAGES.mkdir(exist_ok=True)
    wanted = {f"{s.name}.eml" for s in specs}
    for stale in MESSAGES.glob("*.eml"):
        if stale.name not in wanted:
            stale.unlink()
    for spec in specs:
        (MESSAGES / f"{spec.name}.eml").write_bytes(spec.raw)
    MANIFEST.write_bytes(manifest(specs))


def differences(specs: list[Spec]) -> list[str]:
    """Files on disk that differ from what the generator writes (empty when all match)."""
    found = []
    wanted = {f"{s.name}.eml" for s in specs}
    for spec in specs:
        path = MESSAGES / f"{spec.name}.eml"
        if not path.exists() or path.read_bytes() != spec.raw:
            found.append(str(path.relative_to(HERE)))
    found += [str(p.relative_to(HERE)) for p in MESSAGES.glob("*.eml") if p.name not in wanted]
    if not MANIFEST.exists() or MANIFEST.read_bytes() != manifest(specs):
        found.append(MANIFEST.name)
    return found


def main(argv: list[str] | None = None) -> int:
    """Regenerate the corpus, or with --check report files that differ."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    specs = catalogue()
    if args.check:
        stale = differences(specs)
        for name in stale:
            print(f"differs: {name}")
        return 1 if stale else 0
    write(specs)
    print(f"wrote {len(specs)} messages to {MESSAGES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
