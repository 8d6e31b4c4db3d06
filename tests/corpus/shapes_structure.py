# ruff: noqa: E501
"""Corpus shapes of structure: line ends, every transfer encoding (and broken ones), sizes,
part counts, nesting and damaged MIME.
"""

from __future__ import annotations

import base64
import hashlib

from tests.corpus.build import Spec, headers, mail
from tests.corpus.mime import (
    CR,
    CRLF,
    LF,
    Download,
    Part,
    Shown,
    alternative,
    file,
    header_block,
    inline,
    message,
    multipart,
    text,
    written,
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
    return [
        *out,
        Spec(
            "eol-mixed-multipart",
            mixed,
            expect,
            "A relay that rewrote only part of the message to LF (seen in list archives).",
            "CRLF headers, LF boundary lines, CRLF later",
            "Gemischt",
            tags=("line-ends",),
            defects=(2,),
        ),
        mail(
            "eol-lf-subject-trigger",
            "WebCrypt Zeilenenden LF",
            text("Vertraulich mit LF-Zeilenenden.\nZweite Zeile.\n", cte="8bit", eol=LF),
            message_id="eol-lf-t@bank.example",
            source="The sendmail -t shape with the trigger word in the Subject.",
            exercises="Subject rewrite keeps LF line ends",
            eol=LF,
            subject_after="Zeilenenden LF",
            tags=("line-ends",),
            defects=(2,),
        ),
    ]


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
        out.append(
            mail(
                name,
                "Kodierung",
                part,
                message_id=f"{name}@bank.example",
                source=source,
                exercises=exercises,
                tags=("cte",),
            )
        )
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
    uu = multipart(
        "mixed",
        [
            text("Anhang uuencodiert.\n", cte="7bit", charset="us-ascii"),
            file(PDF, "application/octet-stream", name="beleg.pdf", cte="x-uuencode"),
        ],
        boundary="uu-b-1",
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
    out += [
        mail(
            "cte-binary-attachment",
            "Binär",
            binary,
            message_id="cte-binary@bank.example",
            source="RFC 3030 BINARYMIME senders (Exchange to Exchange): raw bytes with CR, LF and dots.",
            exercises="binary transfer encoding",
            tags=("cte",),
        ),
        mail(
            "cte-x-uuencode",
            "UU",
            uu,
            message_id="cte-uu@bank.example",
            source="Old Pegasus Mail / Netscape: Content-Transfer-Encoding: x-uuencode.",
            exercises="x-uuencode attachment decoded",
            tags=("cte",),
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
        out.append(
            mail(
                name,
                "Kaputte Kodierung",
                mixed,
                message_id=f"{name}@bank.example",
                source=source,
                exercises="a damaged transfer encoding: the page still opens, the other parts stay intact",
                tags=("cte", "broken"),
            )
        )
    return out


def sizes() -> list[Spec]:
    """Huge single lines, many parts, long headers."""
    line = (
        "Kontobewegung;" + "0123456789ABCDEF" * 4
    ) * 14_000  # a bit over 1 MB, cut to 1 MB below
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
    files = [
        file(f"Beleg {i}\n".encode() * (i + 1), "text/plain", name=f"beleg-{i:03d}.txt", cte="7bit")
        for i in range(120)
    ]
    tiny = [
        written(
            [("Content-Type", "application/octet-stream")],
            f"{i}".encode(),
            "application/octet-stream",
        )
        for i in range(1000)
    ]
    received = [
        (
            "Received",
            f"from relay{i}.example (relay{i}.example [192.0.2.{i % 250}])\n\tby relay{i + 1}.example with ESMTPS id {i:08X}\n\tfor <kunde@example.com>; Mon, 23 Nov 2026 09:00:{i % 60:02d} +0100",
        )
        for i in range(400)
    ]
    refs = " ".join(f"<ref{i:05d}.{i * 7919 % 100000:05d}@bank.example>" for i in range(1500))
    folded = refs.replace("> <", ">\n <")
    unfolded = multipart(
        "mixed",
        [
            text("Langer Dateiname.\n"),
            file(PDF, "application/pdf", name="Bericht_" + "X" * 1200 + ".pdf"),
        ],
        boundary="longname-b",
    )
    return [
        mail(
            "huge-1mb-single-line",
            "Ein-Zeilen-Export",
            text(line[:1_000_000] + "\n", cte="8bit", charset="us-ascii"),
            message_id="huge-line@bank.example",
            source="A core banking CSV export written as one line of 1 MB into an 8bit body.",
            exercises="1 MB text line",
            tags=("huge", "limits"),
        ),
        mail(
            "huge-base64-single-line",
            "Export",
            multipart("mixed", [text("Export anbei.\n"), part], boundary="huge-b64-b"),
            message_id="huge-b64@bank.example",
            source="A PHP mail() script that base64-encodes without chunk_split: 1 MB on one line.",
            exercises="base64 attachment on one 1 MB line",
            tags=("huge", "limits"),
        ),
        mail(
            "many-parts-120",
            "120 Belege",
            multipart(
                "mixed", [text("Alle Belege des Jahres.\n"), *files], boundary="many-parts-b"
            ),
            message_id="many@bank.example",
            source="A document archive exporting a year of receipts: 121 parts.",
            exercises="many attachments",
            tags=("many-parts",),
        ),
        mail(
            "many-parts-1000",
            "1000 Teile",
            multipart("mixed", [text("Sehr viele Teile.\n"), *tiny], boundary="m1000"),
            message_id="many1000@bank.example",
            source="Generated: 1001 parts, the shape of a misbehaving batch mailer.",
            exercises="part count limit",
            tags=("many-parts", "limits"),
        ),
        mail(
            "header-400-received",
            "Viele Hops",
            text("Über viele Relays.\n"),
            message_id="hops@bank.example",
            first=received,
            source="A message that looped between relays: 400 Received fields (about 60 KB of header).",
            exercises="large header block",
            tags=("long-header", "limits"),
        ),
        mail(
            "header-long-references",
            "Re: lange Diskussion",
            text("Antwort in einem langen Thread.\n"),
            message_id="refs@bank.example",
            extra=[("References", folded), ("In-Reply-To", "<ref01499.00000@bank.example>")],
            source="A years-long reply thread: a References field of 1500 ids folded over 1500 lines.",
            exercises="one very long folded header field",
            tags=("long-header", "limits"),
        ),
        mail(
            "part-header-1200-octets",
            "Langer Name",
            unfolded,
            message_id="longname@bank.example",
            source="A document system writing a 1200-character file name unfolded into the part header.",
            exercises="part header line over 998 octets",
            tags=("long-header", "limits"),
        ),
    ]


def nesting() -> list[Spec]:
    """Deep and odd nesting."""
    part = text("Ganz innen, Ebene 1000.\n", cte="7bit", charset="us-ascii")
    for level in range(1000):
        part = multipart("mixed", [part], boundary=f"n{level}")
    inner = alternative("Innen Text.\n", "<p>Innen <b>HTML</b>.</p>", boundary="b")
    outer = multipart(
        "mixed", [inner, file(PDF, "application/pdf", name="x.pdf")], boundary="b-outer"
    )
    related = multipart(
        "related",
        [
            text(
                '<html><body><p>Mit Bild:</p><img src="cid:logo@bank"></body></html>',
                subtype="html",
            ),
            inline(PDF, "application/pdf", "logo.pdf", "logo@bank"),
        ],
        boundary="rel-b",
        param='multipart/related; type="text/html"; boundary="rel-b"',
    )
    return [
        mail(
            "nested-1000-multiparts",
            "1000 Ebenen",
            part,
            message_id="nest1000@bank.example",
            source="Generated: 1000 levels of multipart/mixed (a forwarding loop that wrapped each round).",
            exercises="nesting far over any sensible limit",
            defects=(10,),
            tags=("limits", "unparseable-by-stdlib"),
        ),
        mail(
            "boundary-prefix-of-outer",
            "Präfix-Grenzen",
            outer,
            message_id="prefix@bank.example",
            source="A hand-rolled PHP multipart whose inner boundary 'b' is a prefix of the outer 'b-outer' (RFC 2046 forbids it; readers cope).",
            exercises="boundary that is a prefix of another",
            tags=("broken",),
        ),
        mail(
            "related-non-image-cid",
            "Related",
            related,
            message_id="related@bank.example",
            source="An HTML newsletter tool referencing a PDF by cid: (not an image).",
            exercises="a cid part that cannot be inlined stays downloadable",
        ),
    ]


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

    def beside_text(
        name: str,
        subject: str,
        note: str,
        odd: list[Part],
        *,
        ids: str,
        source: str,
        exercises: str,
        boundary: str = "",
        tags: tuple[str, ...] = (),
    ) -> None:
        """Add a message of a short text and the `odd` parts; `ids` names its boundary and ID."""
        body = multipart("mixed", [text(note), *odd], boundary=boundary or f"{ids}-b")
        out.append(
            mail(
                name,
                subject,
                body,
                message_id=f"{ids}@bank.example",
                source=source,
                exercises=exercises,
                tags=tags,
            )
        )

    proprietary = b"\x00\x01BANKDATA\x02\x03"
    beside_text(
        "unknown-type-no-name",
        "Unbekannt",
        "Unbekannter Typ folgt.\n",
        [
            written(
                [("Content-Type", "application/x-bank-proprietary")],
                proprietary,
                "application/x-bank-proprietary",
            )
        ],
        ids="unknown",
        boundary="unk-b",
        source="An in-house application sending its own MIME type without a file name or encoding.",
        exercises="unknown type without name: downloadable",
    )
    first_piece = b"Subject: gross\r\n\r\nerster Teil\r\n"
    beside_text(
        "message-partial",
        "Teilnachricht",
        "Teil 1 von 2 folgt.\n",
        [
            written(
                [("Content-Type", 'message/partial; id="abc@bank.example"; number=1; total=2')],
                first_piece,
                "message/partial",
            )
        ],
        ids="partial",
        source="RFC 2046 message/partial (Outlook Express 'split messages larger than').",
        exercises="message/partial downloadable",
    )
    beside_text(
        "same-names-and-empty-file",
        "Gleiche Namen",
        "Zwei Dateien gleichen Namens.\n",
        [
            file(PDF, "application/pdf", name="scan.pdf"),
            file(PDF[::-1], "application/pdf", name="scan.pdf"),
            file(b"", "application/pdf", name="leer.pdf"),
        ],
        ids="same",
        source="A scanner sending several scans under one name, and an empty file.",
        exercises="duplicate file names and a zero-byte attachment",
    )
    beside_text(
        "encoded-word-filename",
        "Kodierter Name",
        "Name als kodiertes Wort.\n",
        [file(PDF, "application/pdf", name="=?utf-8?B?w5xiZXJzaWNodC5wZGY=?=")],
        ids="ewname",
        source="Outlook and Gmail: an RFC 2047 encoded word inside the quoted name= (not RFC 2231).",
        exercises="encoded-word file name",
    )
    beside_text(
        "rfc2231-invalid-bytes",
        "RFC 2231",
        "Kaputter RFC-2231-Name.\n",
        [
            written(
                [
                    ("Content-Type", "application/pdf; name*=x-unknown''%FF%FE%00.pdf"),
                    ("Content-Disposition", "attachment; filename*=utf-8''%FF%FE%C3.pdf"),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                PDF,
                "application/pdf",
                in_base64=True,
            )
        ],
        ids="bad2231",
        source="A name*= with an unknown charset and invalid percent escapes (fuzzed).",
        exercises="undecodable RFC 2231 file name",
        tags=("broken",),
    )
    beside_text(
        "eight-bit-name-content-type-only",
        "Lebenslauf",
        "8-Bit nur im Content-Type.\n",
        [file(PDF, 'application/pdf; name="Résumé.pdf"', disposition="attachment")],
        ids="ct8bit",
        boundary="ct8-b",
        source="A résumé sent by an applicant portal: Latin-1 name= only in Content-Type, no filename=.",
        exercises="8-bit bytes in the download's content type",
        tags=("broken",),
    )
    resume = out[-1]
    resume.raw = resume.raw.replace("Résumé".encode(), b"R\xe9sum\xe9")
    out[-1].defects = (12,)
    return out


def specs() -> list[Spec]:
    """The structure shapes."""
    return [*line_ends(), *transfer_encodings(), *sizes(), *nesting(), *damaged()]
