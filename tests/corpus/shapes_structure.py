# ruff: noqa: E501
"""Corpus shapes of structure: line ends, every transfer encoding (and broken ones), sizes,
part counts, nesting and damaged MIME.
"""

from __future__ import annotations

import base64
import hashlib

from tests.corpus.build import Spec, headers
from tests.corpus.mime import (
    CR,
    CRLF,
    LF,
    Download,
    Part,
    Shown,
    file,
    header_block,
    message,
    multipart,
    text,
)

PDF = b"%PDF-1.5\n%\xd0\xd4\xc5\xd8\n" + bytes(range(256)) * 2 + b"%%EOF\n"


def _pseudo_random(size: int, seed: str) -> bytes:
    """Deterministic incompressible bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def line_ends() -> list[Spec]:
    """The same multipart message with CRLF, LF, CR and mixed line ends."""
    out = []
    for label, eol, source in [
        ("crlf", CRLF, "Any RFC 5321-conformant client: CRLF throughout."),
        (
            "lf",
            LF,
            "Unix sendmail -t pipes and Maildir copies re-sent by scripts: bare LF throughout.",
        ),
        ("cr", CR, "Classic Mac OS mailers: bare CR throughout."),
    ]:
        body = multipart(
            "mixed",
            [
                text(
                    f"Zeilenenden: {label}.\nZweite Zeile mit Umlaut: Öl.\n",
                    cte="quoted-printable",
                    eol=eol,
                ),
                text(
                    "Eine zweite Textzeile\nim Anhang.\n",
                    cte="8bit",
                    eol=eol,
                    disposition='attachment; filename="notiz.txt"',
                    role="file",
                ),
                file(PDF, "application/pdf", name="beleg.pdf", eol=eol),
            ],
            boundary=f"eol-{label}-b",
            eol=eol,
        )
        raw, expect = message(
            headers(f"Zeilenenden {label}", message_id=f"eol-{label}@bank.example"), body, eol=eol
        )
        out.append(
            Spec(
                f"eol-{label}-multipart",
                raw,
                expect,
                source,
                f"{label.upper()} line ends in headers, boundaries and bodies",
                f"Zeilenenden {label}",
                tags=("line-ends",),
                defects=(2,) if eol != CRLF else (),
            )
        )
    crlf_raw, expect = message(
        headers("Gemischt", message_id="eol-mixed@bank.example"),
        multipart(
            "mixed",
            [
                text("Kopf CRLF, Körper gemischt.\n", cte="8bit"),
                file(PDF, "application/pdf", name="beleg.pdf"),
            ],
            boundary="eol-mixed-b",
        ),
    )
    head, _, rest = crlf_raw.partition(b"\r\n\r\n")
    mixed = head + b"\r\n\r\n" + rest.replace(b"\r\n", b"\n", 3)
    out.append(
        Spec(
            "eol-mixed-multipart",
            mixed,
            expect,
            "A relay that rewrote only part of the message to LF (seen in list archives).",
            "CRLF headers, LF boundary lines, CRLF later",
            "Gemischt",
            tags=("line-ends",),
            defects=(2,),
        )
    )
    lf_trigger, lf_expect = message(
        headers("WebCrypt Zeilenenden LF", message_id="eol-lf-t@bank.example"),
        text("Vertraulich mit LF-Zeilenenden.\nZweite Zeile.\n", cte="8bit", eol=LF),
        eol=LF,
    )
    out.append(
        Spec(
            "eol-lf-subject-trigger",
            lf_trigger,
            lf_expect,
            "The sendmail -t shape with the trigger word in the Subject.",
            "Subject rewrite keeps LF line ends",
            "WebCrypt Zeilenenden LF",
            subject_after="Zeilenenden LF",
            trigger="subject",
            tags=("line-ends",),
            defects=(2,),
        )
    )
    return out


def transfer_encodings() -> list[Spec]:
    """Every Content-Transfer-Encoding, well-formed and broken."""
    blob = _pseudo_random(3000, "cte")
    text_body = "Transferkodierung mit Umlauten: äöüß €.\nZweite Zeile.\n"
    cases: list[tuple[str, Part, str, str]] = [
        (
            "cte-7bit",
            text("Nur ASCII im Text.\n", cte="7bit", charset="us-ascii"),
            "Any client for ASCII text.",
            "7bit",
        ),
        (
            "cte-8bit",
            text(text_body, cte="8bit"),
            "Thunderbird for UTF-8 text with 8BITMIME.",
            "8bit",
        ),
        (
            "cte-quoted-printable",
            text(
                text_body
                + "=Gleichheitszeichen und ein sehr langer Satz, der über die zulässige Zeilenlänge von 76 Zeichen hinausgeht und umbrochen wird.\n"
            ),
            "Outlook for non-ASCII text: soft line breaks and =3D.",
            "quoted-printable with soft breaks",
        ),
        (
            "cte-base64-text",
            text(text_body, cte="base64"),
            "Gmail / Samsung for UTF-8 text.",
            "base64 text",
        ),
        (
            "cte-uppercase-base64",
            text(text_body, cte="BASE64"),
            "Lotus Notes: transfer encoding in capitals.",
            "case-insensitive encoding name",
        ),
        (
            "cte-mixed-case-qp",
            text(text_body, cte="Quoted-Printable"),
            "Eudora: 'Quoted-Printable' in mixed case.",
            "case-insensitive encoding name",
        ),
    ]
    out = []
    for name, part, source, exercises in cases:
        raw, expect = message(headers("Kodierung", message_id=f"{name}@bank.example"), part)
        out.append(Spec(name, raw, expect, source, exercises, "Kodierung", tags=("cte",)))
    binary = multipart(
        "mixed",
        [
            text("Binärer Anhang ohne Kodierung.\n", cte="8bit"),
            file(
                blob + b"\r\n\n\r.\r\n", "application/octet-stream", name="daten.bin", cte="binary"
            ),
        ],
        boundary="binary-b-77aa",
    )
    raw, expect = message(headers("Binär", message_id="cte-binary@bank.example"), binary)
    out.append(
        Spec(
            "cte-binary-attachment",
            raw,
            expect,
            "RFC 3030 BINARYMIME senders (Exchange to Exchange): raw bytes with CR, LF and dots.",
            "binary transfer encoding",
            "Binär",
            tags=("cte",),
        )
    )
    uu = multipart(
        "mixed",
        [
            text("Anhang uuencodiert.\n", cte="7bit", charset="us-ascii"),
            file(PDF, "application/octet-stream", name="beleg.pdf", cte="x-uuencode"),
        ],
        boundary="uu-b-1",
    )
    raw, expect = message(headers("UU", message_id="cte-uu@bank.example"), uu)
    out.append(
        Spec(
            "cte-x-uuencode",
            raw,
            expect,
            "Old Pegasus Mail / Netscape: Content-Transfer-Encoding: x-uuencode.",
            "x-uuencode attachment decoded",
            "UU",
            tags=("cte",),
        )
    )
    broken = [
        (
            "cte-unknown-x-gzip64",
            "x-gzip64",
            b"H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==\r\n",
            "A proprietary gateway's x-gzip64.",
        ),
        (
            "cte-base64-garbage",
            "base64",
            b"SGFsbG8gV2VsdA==!!!***\r\nnot base64 at all\r\n=\r\n",
            "Base64 damaged by a virus scanner's footer.",
        ),
        (
            "cte-base64-no-padding",
            "base64",
            b"SGFsbG8gV2VsdA\r\n",
            "Base64 without padding from a broken encoder.",
        ),
        (
            "cte-qp-invalid-escapes",
            "quoted-printable",
            b"Preis =ZZ 100 =E2=82 =\r\nEnde =3\r\n",
            "Quoted-printable with invalid and cut escapes.",
        ),
        (
            "cte-8bit-declared-base64-data",
            "8bit",
            b"SGFsbG8gV2VsdCwgZGFzIGlzdCBiYXNlNjQu\r\n",
            "A script that base64-encoded but declared 8bit.",
        ),
        (
            "cte-with-comment",
            "base64 (encoded by MailScanner)",
            base64.encodebytes(b"Kommentar im Header.\n").replace(b"\n", b"\r\n"),
            "MailScanner adding a comment to the encoding field.",
        ),
    ]
    for name, cte, body, source in broken:
        mixed = multipart(
            "mixed",
            [
                text("Dieser Teil ist in Ordnung.\n"),
                Part(
                    [
                        ("Content-Type", 'application/octet-stream; name="kaputt.bin"'),
                        ("Content-Transfer-Encoding", cte),
                        ("Content-Disposition", 'attachment; filename="kaputt.bin"'),
                    ],
                    body,
                ),
                file(PDF, "application/pdf", name="heil.pdf"),
            ],
            boundary=f"{name}-b",
        )
        raw, expect = message(
            headers("Kaputte Kodierung", message_id=f"{name}@bank.example"), mixed
        )
        out.append(
            Spec(
                name,
                raw,
                expect,
                source,
                "a damaged transfer encoding: the page still opens, the other parts stay intact",
                "Kaputte Kodierung",
                tags=("cte", "broken"),
            )
        )
    return out


def sizes() -> list[Spec]:
    """Huge single lines, many parts, long headers."""
    out = []
    line = (
        "Kontobewegung;" + "0123456789ABCDEF" * 4
    ) * 14_000  # a bit over 1 MB, cut to 1 MB below
    raw, expect = message(
        headers("Ein-Zeilen-Export", message_id="huge-line@bank.example"),
        text(line[:1_000_000] + "\n", cte="8bit", charset="us-ascii"),
    )
    out.append(
        Spec(
            "huge-1mb-single-line",
            raw,
            expect,
            "A core banking CSV export written as one line of 1 MB into an 8bit body.",
            "1 MB text line",
            "Ein-Zeilen-Export",
            tags=("huge", "limits"),
        )
    )
    blob = _pseudo_random(749_997, "b64line")
    flat = base64.b64encode(blob)  # 1 MB of base64 without a single line break
    part = Part(
        [
            ("Content-Type", 'application/octet-stream; name="export.bin"'),
            ("Content-Disposition", 'attachment; filename="export.bin"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        flat + b"\r\n",
        [Download(blob, "application/octet-stream")],
    )
    raw, expect = message(
        headers("Export", message_id="huge-b64@bank.example"),
        multipart("mixed", [text("Export anbei.\n"), part], boundary="huge-b64-b"),
    )
    out.append(
        Spec(
            "huge-base64-single-line",
            raw,
            expect,
            "A PHP mail() script that base64-encodes without chunk_split: 1 MB on one line.",
            "base64 attachment on one 1 MB line",
            "Export",
            tags=("huge", "limits"),
        )
    )
    files = [
        file(f"Beleg {i}\n".encode() * (i + 1), "text/plain", name=f"beleg-{i:03d}.txt", cte="7bit")
        for i in range(120)
    ]
    raw, expect = message(
        headers("120 Belege", message_id="many@bank.example"),
        multipart("mixed", [text("Alle Belege des Jahres.\n"), *files], boundary="many-parts-b"),
    )
    out.append(
        Spec(
            "many-parts-120",
            raw,
            expect,
            "A document archive exporting a year of receipts: 121 parts.",
            "many attachments",
            "120 Belege",
            tags=("many-parts",),
        )
    )
    tiny = [
        Part(
            [("Content-Type", "application/octet-stream")],
            f"{i}".encode(),
            [Download(f"{i}".encode(), "application/octet-stream")],
        )
        for i in range(1000)
    ]
    raw, expect = message(
        headers("1000 Teile", message_id="many1000@bank.example"),
        multipart("mixed", [text("Sehr viele Teile.\n"), *tiny], boundary="m1000"),
    )
    out.append(
        Spec(
            "many-parts-1000",
            raw,
            expect,
            "Generated: 1001 parts, the shape of a misbehaving batch mailer.",
            "part count limit",
            "1000 Teile",
            tags=("many-parts", "limits"),
        )
    )
    received = [
        (
            "Received",
            f"from relay{i}.example (relay{i}.example [192.0.2.{i % 250}])\n\tby relay{i + 1}.example with ESMTPS id {i:08X}\n\tfor <kunde@example.com>; Mon, 23 Nov 2026 09:00:{i % 60:02d} +0100",
        )
        for i in range(400)
    ]
    raw, expect = message(
        headers("Viele Hops", message_id="hops@bank.example", first=received),
        text("Über viele Relays.\n"),
    )
    out.append(
        Spec(
            "header-400-received",
            raw,
            expect,
            "A message that looped between relays: 400 Received fields (about 60 KB of header).",
            "large header block",
            "Viele Hops",
            tags=("long-header", "limits"),
        )
    )
    refs = " ".join(f"<ref{i:05d}.{i * 7919 % 100000:05d}@bank.example>" for i in range(1500))
    folded = refs.replace("> <", ">\n <")
    raw, expect = message(
        headers(
            "Re: lange Diskussion",
            message_id="refs@bank.example",
            extra=[("References", folded), ("In-Reply-To", "<ref01499.00000@bank.example>")],
        ),
        text("Antwort in einem langen Thread.\n"),
    )
    out.append(
        Spec(
            "header-long-references",
            raw,
            expect,
            "A years-long reply thread: a References field of 1500 ids folded over 1500 lines.",
            "one very long folded header field",
            "Re: lange Diskussion",
            tags=("long-header", "limits"),
        )
    )
    unfolded = multipart(
        "mixed",
        [
            text("Langer Dateiname.\n"),
            file(PDF, "application/pdf", name="Bericht_" + "X" * 1200 + ".pdf"),
        ],
        boundary="longname-b",
    )
    raw, expect = message(headers("Langer Name", message_id="longname@bank.example"), unfolded)
    out.append(
        Spec(
            "part-header-1200-octets",
            raw,
            expect,
            "A document system writing a 1200-character file name unfolded into the part header.",
            "part header line over 998 octets",
            "Langer Name",
            tags=("long-header", "limits"),
        )
    )
    return out


def nesting() -> list[Spec]:
    """Deep and odd nesting."""
    out = []
    part = text("Ganz innen, Ebene 1000.\n", cte="7bit", charset="us-ascii")
    for level in range(1000):
        part = multipart("mixed", [part], boundary=f"n{level}")
    raw, expect = message(headers("1000 Ebenen", message_id="nest1000@bank.example"), part)
    out.append(
        Spec(
            "nested-1000-multiparts",
            raw,
            expect,
            "Generated: 1000 levels of multipart/mixed (a forwarding loop that wrapped each round).",
            "nesting far over any sensible limit",
            "1000 Ebenen",
            defects=(10,),
            tags=("limits", "unparseable-by-stdlib"),
        )
    )
    inner = multipart(
        "alternative",
        [
            text("Innen Text.\n", role="alternative"),
            text("<p>Innen <b>HTML</b>.</p>", subtype="html"),
        ],
        boundary="b",
    )
    outer = multipart(
        "mixed", [inner, file(PDF, "application/pdf", name="x.pdf")], boundary="b-outer"
    )
    raw, expect = message(headers("Präfix-Grenzen", message_id="prefix@bank.example"), outer)
    out.append(
        Spec(
            "boundary-prefix-of-outer",
            raw,
            expect,
            "A hand-rolled PHP multipart whose inner boundary 'b' is a prefix of the outer 'b-outer' (RFC 2046 forbids it; readers cope).",
            "boundary that is a prefix of another",
            "Präfix-Grenzen",
            tags=("broken",),
        )
    )
    related = multipart(
        "related",
        [
            text(
                '<html><body><p>Mit Bild:</p><img src="cid:logo@bank"></body></html>',
                subtype="html",
            ),
            file(
                PDF,
                "application/pdf",
                name="logo.pdf",
                disposition="inline",
                extra=[("Content-ID", "<logo@bank>")],
            ),
        ],
        boundary="rel-b",
        param='multipart/related; type="text/html"; boundary="rel-b"',
    )
    raw, expect = message(headers("Related", message_id="related@bank.example"), related)
    out.append(
        Spec(
            "related-non-image-cid",
            raw,
            expect,
            "An HTML newsletter tool referencing a PDF by cid: (not an image).",
            "a cid part that cannot be inlined stays downloadable",
            "Related",
        )
    )
    return out


def damaged() -> list[Spec]:
    """Damaged or unusual MIME that real mail still contains."""
    out = []

    def add(
        name: str,
        raw: bytes,
        expect: list,
        source: str,
        exercises: str,
        subject: str,
        tags: tuple[str, ...] = ("broken",),
    ) -> None:
        out.append(Spec(name, raw, expect, source, exercises, subject, tags=tags))

    base = header_block(headers("Kaputt", message_id="dmg@bank.example"), CRLF)
    add(
        "missing-final-boundary",
        base
        + b'Content-Type: multipart/mixed; boundary="mfb"\r\n\r\n--mfb\r\nContent-Type: text/plain\r\n\r\nText ohne Abschluss der Grenze.\r\n--mfb\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(PDF).replace(b"\n", b"\r\n"),
        [Shown("Text ohne Abschluss der Grenze.")],
        "A message cut by a size-limited relay: the closing boundary is missing.",
        "missing close delimiter",
        "Kaputt",
    )
    add(
        "boundary-in-preamble",
        base
        + b'Content-Type: multipart/mixed; boundary="pre"\r\n\r\nVorwort erwaehnt --pre nur im Text.\r\n--pre\r\nContent-Type: text/plain\r\n\r\nEigentlicher Text.\r\n--pre--\r\nNachwort.\r\n',
        [Shown("Eigentlicher Text.")],
        "A preamble that mentions the boundary string inside a line (list archive).",
        "boundary string inside the preamble",
        "Kaputt",
    )
    add(
        "duplicate-content-type",
        base
        + b"Content-Type: text/plain; charset=utf-8\r\nContent-Type: text/html; charset=utf-8\r\n\r\nDoppelter Typ.\r\n",
        [Shown("Doppelter Typ.")],
        "A web form mailer adding its own Content-Type after the library's.",
        "two Content-Type fields",
        "Kaputt",
    )
    add(
        "content-type-without-subtype",
        base + b"Content-Type: text\r\n\r\nTyp ohne Untertyp.\r\n",
        [Shown("Typ ohne Untertyp.")],
        "Old Perl scripts: 'Content-Type: text'.",
        "invalid Content-Type falls back to text/plain",
        "Kaputt",
    )
    add(
        "empty-body",
        base + b"Content-Type: text/plain\r\n\r\n",
        [],
        "A calendar client's empty reply.",
        "empty body",
        "Kaputt",
        tags=(),
    )
    add(
        "headers-only-no-newline",
        header_block(headers("Nur Kopf", message_id="hdr-only@bank.example", mime=False), CRLF)[
            :-2
        ],
        [],
        "A monitoring probe: header fields only, no body, no final line end.",
        "no body and no final CRLF",
        "Nur Kopf",
    )
    add(
        "multipart-without-parts",
        base
        + b'Content-Type: multipart/mixed; boundary="none"\r\n\r\nKein einziger Teil.\r\n--none--\r\n',
        [],
        "A broken mass mailer: a multipart with only a close delimiter.",
        "multipart with zero parts",
        "Kaputt",
    )
    add(
        "multipart-without-boundary",
        base + b"Content-Type: multipart/mixed\r\n\r\nText ohne Grenzparameter.\r\n",
        [],
        "A library that forgot the boundary parameter.",
        "multipart without boundary",
        "Kaputt",
    )
    add(
        "nul-bytes-in-body",
        base
        + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nVor NUL\x00nach NUL.\r\nZweite Zeile.\r\n",
        [Shown("Zweite Zeile.")],
        "A C program that wrote its buffer with a NUL into the body.",
        "NUL byte in a text body",
        "Kaputt",
    )
    add(
        "nul-bytes-in-headers",
        header_block(
            headers(
                "Null-Byte im Kopf",
                message_id="nul-hdr@bank.example",
                extra=[("Keywords", b"Konto\x00Depot")],
            ),
            CRLF,
        )
        + b"X-Junk: a\x00b\r\nContent-Type: text/plain\r\n\r\nText nach NUL im Kopf.\r\n",
        [Shown("Text nach NUL im Kopf.")],
        "Mutated headers from a fuzzing campaign against mail parsers.",
        "NUL bytes in header fields",
        "Null-Byte im Kopf",
        tags=("broken", "nul-header"),
    )
    add(
        "part-header-without-colon",
        base
        + b'Content-Type: multipart/mixed; boundary="nc"\r\n\r\n--nc\r\nContent-Type: text/plain\r\nDiese Zeile ist kein Feld\r\n\r\nText des Teils.\r\n--nc\r\nContent-Type: application/pdf; name="b.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(PDF).replace(b"\n", b"\r\n")
        + b"--nc--\r\n",
        [Download(PDF, "application/pdf")],
        "A part whose header block contains a line without a colon (hand-edited).",
        "broken part header; the other part stays downloadable",
        "Kaputt",
    )
    unknown = multipart(
        "mixed",
        [
            text("Unbekannter Typ folgt.\n"),
            Part(
                [("Content-Type", "application/x-bank-proprietary")],
                b"\x00\x01BANKDATA\x02\x03",
                [Download(b"\x00\x01BANKDATA\x02\x03", "application/x-bank-proprietary")],
            ),
        ],
        boundary="unk-b",
    )
    raw, expect = message(headers("Unbekannt", message_id="unknown@bank.example"), unknown)
    add(
        "unknown-type-no-name",
        raw,
        expect,
        "An in-house application sending its own MIME type without a file name or encoding.",
        "unknown type without name: downloadable",
        "Unbekannt",
        tags=(),
    )
    partial = multipart(
        "mixed",
        [
            text("Teil 1 von 2 folgt.\n"),
            Part(
                [("Content-Type", 'message/partial; id="abc@bank.example"; number=1; total=2')],
                b"Subject: gross\r\n\r\nerster Teil\r\n",
                [Download(b"Subject: gross\r\n\r\nerster Teil\r\n", "message/partial")],
            ),
        ],
        boundary="partial-b",
    )
    raw, expect = message(headers("Teilnachricht", message_id="partial@bank.example"), partial)
    add(
        "message-partial",
        raw,
        expect,
        "RFC 2046 message/partial (Outlook Express 'split messages larger than').",
        "message/partial downloadable",
        "Teilnachricht",
        tags=(),
    )
    same = multipart(
        "mixed",
        [
            text("Zwei Dateien gleichen Namens.\n"),
            file(PDF, "application/pdf", name="scan.pdf"),
            file(PDF[::-1], "application/pdf", name="scan.pdf"),
            file(b"", "application/pdf", name="leer.pdf"),
        ],
        boundary="same-b",
    )
    raw, expect = message(headers("Gleiche Namen", message_id="same@bank.example"), same)
    add(
        "same-names-and-empty-file",
        raw,
        expect,
        "A scanner sending several scans under one name, and an empty file.",
        "duplicate file names and a zero-byte attachment",
        "Gleiche Namen",
        tags=(),
    )
    ew_name = multipart(
        "mixed",
        [
            text("Name als kodiertes Wort.\n"),
            file(PDF, "application/pdf", name="=?utf-8?B?w5xiZXJzaWNodC5wZGY=?="),
        ],
        boundary="ewname-b",
    )
    raw, expect = message(headers("Kodierter Name", message_id="ewname@bank.example"), ew_name)
    add(
        "encoded-word-filename",
        raw,
        expect,
        "Outlook and Gmail: an RFC 2047 encoded word inside the quoted name= (not RFC 2231).",
        "encoded-word file name",
        "Kodierter Name",
        tags=(),
    )
    bad_2231 = multipart(
        "mixed",
        [
            text("Kaputter RFC-2231-Name.\n"),
            Part(
                [
                    ("Content-Type", "application/pdf; name*=x-unknown''%FF%FE%00.pdf"),
                    ("Content-Disposition", "attachment; filename*=utf-8''%FF%FE%C3.pdf"),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                base64.encodebytes(PDF).replace(b"\n", b"\r\n"),
                [Download(PDF, "application/pdf")],
            ),
        ],
        boundary="bad2231-b",
    )
    raw, expect = message(headers("RFC 2231", message_id="bad2231@bank.example"), bad_2231)
    add(
        "rfc2231-invalid-bytes",
        raw,
        expect,
        "A name*= with an unknown charset and invalid percent escapes (fuzzed).",
        "undecodable RFC 2231 file name",
        "RFC 2231",
        tags=("broken",),
    )
    ctype_8bit = multipart(
        "mixed",
        [
            text("8-Bit nur im Content-Type.\n"),
            file(
                PDF,
                b'application/pdf; name="R\xe9sum\xe9.pdf"'.decode("latin-1"),
                disposition="attachment",
            ),
        ],
        boundary="ct8-b",
    )
    raw, expect = message(headers("Lebenslauf", message_id="ct8bit@bank.example"), ctype_8bit)
    raw = raw.replace("Résumé".encode(), b"R\xe9sum\xe9")
    add(
        "eight-bit-name-content-type-only",
        raw,
        expect,
        "A résumé sent by an applicant portal: Latin-1 name= only in Content-Type, no filename=.",
        "8-bit bytes in the download's content type",
        "Lebenslauf",
        tags=("broken",),
    )
    out[-1].defects = (12,)
    return out


def specs() -> list[Spec]:
    """The structure shapes."""
    return [*line_ends(), *transfer_encodings(), *sizes(), *nesting(), *damaged()]
