# ruff: noqa: E501
"""Corpus shapes of mail clients and libraries: Apple Mail, Outlook, Thunderbird, Gmail,
mobile mail apps, calendar invites, signed mail and forwards.

Header fields, boundaries and part layouts follow what each client writes (its X-Mailer or
User-Agent, boundary pattern, order of parts); the text is ours.
"""

from __future__ import annotations

from tests.corpus.build import ADVISER, CUSTOMER, Spec, headers, mail
from tests.corpus.mime import (
    Download,
    Part,
    Shown,
    alternative,
    embedded,
    file,
    inline,
    message,
    multipart,
    text,
    written,
)
from tests.portal.tnef import build_tnef

PDF = (
    b"%PDF-1.7\n%\xb5\xb5\xb5\xb5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    + bytes(range(256))
    + b"\n%%EOF\n"
)
PNG = (
    bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
    + b"\x1f\x15\xc4\x89"
    + b"\x00" * 13
    + b"IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00MM\x00*" + bytes(range(255, -1, -1)) * 4 + b"\xff\xd9"
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + bytes(range(200)) + b"PK\x05\x06" + b"\x00" * 18


def _spec(
    name: str, raw_expect: tuple[bytes, list], subject: str, source: str, exercises: str, **kw
) -> Spec:
    raw, expect = raw_expect
    return Spec(name, raw, expect, source=source, exercises=exercises, subject=subject, **kw)


def apple() -> list[Spec]:
    """Apple Mail on macOS and Mail on iOS."""
    mime = "1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))"
    apple_fields = lambda subject, mid: [  # noqa: E731
        ("From", f"Berta Berater <{ADVISER}>"),
        ("Content-Type", None),
        ("Mime-Version", mime),
        ("Subject", subject),
        ("Message-Id", f"<{mid}>"),
        ("Date", "Mon, 23 Nov 2026 09:12:44 +0100"),
        ("To", f"Karl Kunde <{CUSTOMER}>"),
        ("X-Mailer", "Apple Mail (2.3774.500.171.1.1)"),
    ]

    def build(subject: str, mid: str, body: Part) -> tuple[bytes, list]:
        fields = apple_fields(subject, mid)
        ctype = next(v for n, v in body.headers if n == "Content-Type")
        rest = [(n, v) for n, v in body.headers if n != "Content-Type"]
        ordered = [(n, ctype if n == "Content-Type" else v) for n, v in fields] + rest
        return message(ordered, Part([], body.body, body.expect))  # type: ignore[arg-type]

    alt = alternative(
        "Hallo Herr Kunde,\n\nwie besprochen.\n\nViele Grüße\nBerta",
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body style="overflow-wrap: break-word;">Hallo Herr Kunde,<div><br></div><div>wie besprochen.</div><div><br></div><div>Viele Grüße</div><div>Berta</div></body></html>',
        boundary="Apple-Mail=_6C7D1A0E-2B3C-4D5E-8F90-A1B2C3D4E5F6",
    )
    inner_mixed = multipart(
        "mixed",
        [
            text(
                '<html><body style="overflow-wrap: break-word;">Anbei die Unterlagen.<div><br></div></body></html>',
                subtype="html",
            ),
            file(PDF, "application/pdf", name="Unterlagen.pdf", disposition="inline"),
            text(
                '<html><body style="overflow-wrap: break-word;"><div><br></div><div>Schönen Gruß</div></body></html>',
                subtype="html",
            ),
        ],
        boundary="Apple-Mail=_1B2C3D4E-5F60-4718-293A-4B5C6D7E8F90",
    )
    alt_with_file = multipart(
        "alternative",
        [text("Anbei die Unterlagen.\n\n\nSchönen Gruß", role="alternative"), inner_mixed],
        boundary="Apple-Mail=_0A1B2C3D-4E5F-4607-8192-A3B4C5D6E7F8",
    )
    rfc2231 = multipart(
        "mixed",
        [
            text("Die Datei mit Umlaut im Namen.\n", cte="7bit", charset="us-ascii"),
            written(
                [
                    (
                        "Content-Disposition",
                        "attachment;\n\tfilename*=utf-8''%C3%9Cbersicht%20M%C3%A4rz%202026.pdf",
                    ),
                    (
                        "Content-Type",
                        'application/pdf;\n\tx-unix-mode=0644;\n\tname="=?utf-8?Q?=C3=9Cbersicht_M=C3=A4rz_2026=2Epdf?="',
                    ),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                PDF,
                "application/pdf",
                in_base64=True,
            ),
        ],
        boundary="Apple-Mail=_9F8E7D6C-5B4A-4392-8170-6E5D4C3B2A19",
    )
    iphone = text(
        "Bin unterwegs, melde mich morgen.\n\nVon meinem iPhone gesendet",
        cte="7bit",
        charset="us-ascii",
    )
    iphone_fields = headers(
        "Rückruf",
        message_id="A1B2C3D4-E5F6-4789-9ABC-DEF012345678@bank.example",
        extra=[("X-Mailer", "iPhone Mail (21A329)")],
    )
    iphone_fields = [(n, "1.0 (1.0)" if n == "MIME-Version" else v) for n, v in iphone_fields]
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(range(256)) * 3
    photo = multipart(
        "mixed",
        [
            text("Hier das Dokument als Foto:", cte="7bit", charset="us-ascii", disposition=None),
            file(heic, "image/heic", name="IMG_4711.HEIC", disposition="inline"),
            text("\n\nVon meinem iPhone gesendet", cte="7bit", charset="us-ascii"),
        ],
        boundary="Apple-Mail-5F6A7B8C-9D0E-4F12-A345-6789ABCDEF01",
    )
    ipad = alternative(
        "Termin bestätigt.\n\nVon meinem iPad gesendet",
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">Termin bestätigt.<br><br><div dir="ltr">Von meinem iPad gesendet</div></body></html>',
        boundary="Apple-Mail-0F1E2D3C-4B5A-4968-8776-5A4B3C2D1E0F",
    )
    return [
        _spec(
            "apple-mail-alternative",
            build("Besprechung", "6C7D1A0E@bank.example", alt),
            "Besprechung",
            "Apple Mail 16 (macOS 14): Content-Type before Mime-Version with the '(Mac OS X Mail ...)' comment, Apple-Mail=_ boundary, plain + HTML.",
            "multipart/alternative, MIME-Version with a comment",
        ),
        _spec(
            "apple-mail-pdf-in-html",
            build("Unterlagen", "1B2C3D4E@bank.example", alt_with_file),
            "Unterlagen",
            "Apple Mail with a PDF dropped into the text: alternative(plain, mixed(html, pdf inline, html)).",
            "attachment inside the HTML alternative; two HTML pieces",
            defects=(4, 7),
        ),
        _spec(
            "apple-mail-rfc2231-filename",
            build("Übersicht", "9F8E7D6C@bank.example", rfc2231),
            "Übersicht",
            "Apple Mail: RFC 2231 filename*= with x-unix-mode and an encoded-word name=.",
            "RFC 2231 parameter, encoded-word in name=",
        ),
        _spec(
            "ios-iphone-plain",
            message(iphone_fields, iphone),
            "Rückruf",
            "iOS 17 Mail on iPhone: one text/plain us-ascii part, 'MIME-Version: 1.0 (1.0)', no trailing line end.",
            "minimal mobile message without final line end",
            tags=("mobile",),
        ),
        mail(
            "ios-heic-photo-inline-text",
            "Foto vom Dokument",
            photo,
            message_id="5F6A7B8C@bank.example",
            extra=[("X-Mailer", "iPhone Mail (21A329)")],
            source="iOS Mail: text, HEIC photo inline, text (Apple-Mail- boundary without '=_').",
            exercises="inline text parts around an inline HEIC image",
            defects=(7,),
            tags=("mobile",),
        ),
        mail(
            "ios-ipad-alternative",
            "Termin",
            ipad,
            message_id="0F1E2D3C@bank.example",
            extra=[("X-Mailer", "iPad Mail (21A329)")],
            source="iPadOS Mail: plain + HTML with dir=auto.",
            exercises="mobile multipart/alternative",
            tags=("mobile",),
        ),
    ]


def outlook() -> list[Spec]:
    """Outlook 2016 / 365 / for Mac, with inline images, TNEF and invites."""
    related = multipart(
        "related",
        [
            alternative(
                "Sehr geehrter Herr Kunde,\n\nanbei unser Logo.\n\nMit freundlichen Grüßen\n",
                '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><style><!-- p.MsoNormal {margin:0cm;} --></style></head><body lang="DE"><div class="WordSection1"><p class="MsoNormal">Sehr geehrter Herr Kunde,<o:p></o:p></p><p class="MsoNormal">anbei unser Logo.<o:p></o:p></p><p class="MsoNormal"><img width="1" height="1" src="cid:image001.png@01DA1E2F.3A4B5C60" alt="Logo"><o:p></o:p></p><p class="MsoNormal">Mit freundlichen Grüßen<o:p></o:p></p></div></body></html>\n',
                charset="iso-8859-1",
                boundary="_000_AM0PR01MB1234567890ABCDEFAM0PR01MB1234eurp_",
            ),
            inline(PNG, "image/png", "image001.png", "image001.png@01DA1E2F.3A4B5C60"),
        ],
        boundary="_004_AM0PR01MB1234567890ABCDEFAM0PR01MB1234eurp_",
        param='multipart/related;\n\tboundary="_004_AM0PR01MB1234567890ABCDEFAM0PR01MB1234eurp_";\n\ttype="multipart/alternative"',
    )
    # The inline image is shown inside the HTML or offered; either way its bytes must not change.
    related.expect = [
        e for e in related.expect if not (isinstance(e, Download) and e.content_type == "image/png")
    ]
    o365 = headers(
        "Logo",
        message_id="AM0PR01MB1234567890ABCDEF@AM0PR01MB1234.eurprd01.prod.outlook.com",
        extra=[
            ("Thread-Topic", "Logo"),
            ("Thread-Index", "AdoeLzpLXGBhcnR5dGVzdA=="),
            ("Accept-Language", "de-DE, en-US"),
            ("Content-Language", "de-DE"),
            ("X-MS-Has-Attach", "yes"),
            ("X-MS-TNEF-Correlator", ""),
        ],
    )
    tnef_files = [("Vertrag.pdf", PDF), ("Konditionen.xlsx", XLSX)]
    tnef = build_tnef(tnef_files)
    winmail = multipart(
        "mixed",
        [
            text("Sehr geehrter Herr Kunde,\nanbei der Vertrag.\n", charset="iso-8859-1"),
            written(
                [
                    ("Content-Type", 'application/ms-tnef; name="winmail.dat"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", 'attachment; filename="winmail.dat"'),
                ],
                tnef,
                "application/ms-tnef",
                in_base64=True,
                inner=tuple(d for _, d in tnef_files),
            ),
        ],
        boundary="----=_NextPart_000_0003_01DA1E2F.3A4B5C60",
    )
    ics = (
        "BEGIN:VCALENDAR\nMETHOD:REQUEST\nPRODID:Microsoft Exchange Server 2010\nVERSION:2.0\n"
        "BEGIN:VEVENT\nORGANIZER;CN=Berta Berater:mailto:adviser@bank.example\n"
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Karl Kunde:mailto:kunde@example.com\n"
        "DESCRIPTION;LANGUAGE=de-DE:Jahresgespräch zu Ihrem Depot\\n\nUID:040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5A6010000000000000000100000001234567890ABCDEF\n"
        "SUMMARY;LANGUAGE=de-DE:Jahresgespräch\nDTSTART;TZID=W. Europe Standard Time:20261201T100000\n"
        "DTEND;TZID=W. Europe Standard Time:20261201T110000\nLOCATION;LANGUAGE=de-DE:Filiale Mitte\n"
        "SEQUENCE:0\nSTATUS:CONFIRMED\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    ics_bytes = ics.replace("\n", "\r\n").encode()
    invite = multipart(
        "alternative",
        [
            text("Jahresgespräch zu Ihrem Depot\n", role="alternative"),
            text(
                '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div>Jahresgespräch zu Ihrem Depot</div></body></html>\n',
                subtype="html",
            ),
            written(
                [
                    ("Content-Type", 'text/calendar; charset="utf-8"; method=REQUEST'),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                ics_bytes,
                "text/calendar",
                in_base64=True,
            ),
        ],
        boundary="_000_DB7PR01MB9876543210FEDCBADB7PR01MB9876eurp_",
    )
    mac = alternative(
        "Kurze Rückmeldung aus dem Büro.\n",
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body><div style="font-family:Calibri">Kurze Rückmeldung aus dem Büro.</div></body></html>\n',
        charset="UTF-8",
        boundary="B_3784567890_1234567890",
    )
    msg_attachment = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + b"\x3e\x00\x03\x00\xfe\xff"
        + bytes(range(256)) * 2
    )
    fwd_msg = multipart(
        "mixed",
        [
            text("Die ursprüngliche Nachricht hängt an.\n"),
            file(msg_attachment, "application/vnd.ms-outlook", name="Ursprüngliche Nachricht.msg"),
        ],
        boundary="_002_VI1PR01MB5555AAAABBBBCCCCVI1PR01MB5555eurp_",
    )
    return [
        _spec(
            "outlook-365-related-inline-image",
            message(o365, related),
            "Logo",
            "Outlook 365 (Exchange Online): related(alternative(plain, html), image001.png with Content-ID), Thread-Index, X-MS-Has-Attach.",
            "multipart/related with a cid: image in the HTML",
        ),
        mail(
            "outlook-winmail-dat",
            "Vertrag",
            winmail,
            message_id="000301da1e2f$3a4b5c60@bank.example",
            extra=[
                ("X-Mailer", "Microsoft Outlook 16.0"),
                ("X-MS-TNEF-Correlator", "00000000A1B2C3D4"),
            ],
            source="Outlook with 'Rich Text' format to an external address: a winmail.dat (TNEF) carrying two files.",
            exercises="TNEF unpacked or offered whole, byte-identical",
        ),
        mail(
            "outlook-calendar-request",
            "Einladung: Jahresgespräch",
            invite,
            message_id="DB7PR01MB9876@DB7PR01MB9876.eurprd01.prod.outlook.com",
            extra=[("Content-Class", "urn:content-classes:calendarmessage")],
            source="Outlook / Exchange meeting request: alternative(plain, html, text/calendar; method=REQUEST) in base64.",
            exercises="calendar invite; text/calendar downloadable",
            tags=("calendar",),
        ),
        mail(
            "outlook-mac-alternative",
            "Rückmeldung",
            mac,
            message_id="B_3784567890@bank.example",
            extra=[
                ("User-Agent", "Microsoft-MacOutlook/16.78.23100802"),
                ("Thread-Topic", "Rückmeldung"),
            ],
            source="Outlook for Mac 16: 'B_' boundary, Calibri HTML.",
            exercises="multipart/alternative from Outlook for Mac",
        ),
        mail(
            "outlook-attached-msg",
            "WG: Ursprüngliche Nachricht",
            fwd_msg,
            message_id="VI1PR01MB5555@VI1PR01MB5555.eurprd01.prod.outlook.com",
            source="Outlook 365 forwarding a message as an Outlook item (.msg, CFB file) with a non-ASCII quoted name.",
            exercises="application/vnd.ms-outlook attachment",
        ),
    ]


def thunderbird() -> list[Spec]:
    """Thunderbird 115: format=flowed, RFC 2231 names, forward as attachment."""
    ua = [("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "de-DE")]
    flowed = text(
        "Hallo Herr Kunde,\n\ndies ist ein langer Absatz, den Thunderbird nach 72 Zeichen umbricht \nund mit einem Leerzeichen am Zeilenende als fließend markiert. \nDas geht so weiter.\n\n> Zitat aus der vorigen Mail, \n> ebenfalls fließend.\n\n-- \nBerta Berater\n",
        cte="8bit",
        params="; format=flowed",
    )
    continuation = multipart(
        "mixed",
        [
            text("Anbei die Auswertung.\n", cte="7bit", charset="UTF-8", params="; format=flowed"),
            written(
                [
                    (
                        "Content-Type",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\n name*0*=UTF-8''Auswertung%20%C3%BCber%20alle%20Depots%20und%20Konten%20;\n name*1*=2026.xlsx",
                    ),
                    (
                        "Content-Disposition",
                        "attachment;\n filename*0*=UTF-8''Auswertung%20%C3%BCber%20alle%20Depots%20und%20Konten%20;\n filename*1*=2026.xlsx",
                    ),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                XLSX,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                in_base64=True,
            ),
        ],
        boundary="------------0A1B2C3D4E5F6A7B8C9D0E1F",
        preamble=b"This is a multi-part message in MIME format.\n",
    )
    forwarded_inner = (
        f"Message-ID: <inner-tb@bank.example>\r\nDate: Fri, 20 Nov 2026 16:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        f"From: Clara Kollegin <clara@bank.example>\r\nTo: {ADVISER}\r\nSubject: Konditionen\r\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Die Konditionen gelten bis Jahresende.\r\n"
    ).encode()
    fwd = multipart(
        "mixed",
        [
            text(
                "Zur Info, siehe Anhang.\n", cte="7bit", charset="UTF-8", params="; format=flowed"
            ),
            embedded(
                forwarded_inner,
                name="Konditionen.eml",
                disposition='attachment;\n filename="Konditionen.eml"',
            ),
        ],
        boundary="------------F1E2D3C4B5A69788796A5B4C",
        preamble=b"This is a multi-part message in MIME format.\n",
    )
    html = multipart(
        "alternative",
        [
            text(
                "Am 20.11.26 um 16:00 schrieb Clara:\n> Die Konditionen gelten.\n\nDanke!\n",
                params="; format=flowed",
                cte="7bit",
                charset="UTF-8",
                role="alternative",
            ),
            text(
                '<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n  </head>\n  <body>\n    <div class="moz-cite-prefix">Am 20.11.26 um 16:00 schrieb Clara:<br>\n    </div>\n    <blockquote type="cite" cite="mid:inner-tb@bank.example">Die Konditionen gelten.</blockquote>\n    <p>Danke!</p>\n  </body>\n</html>\n',
                subtype="html",
                cte="7bit",
                charset="UTF-8",
            ),
        ],
        boundary="------------AB12CD34EF56AB78CD90EF12",
    )
    return [
        mail(
            "thunderbird-format-flowed",
            "Absatz",
            flowed,
            message_id="tb-flowed@bank.example",
            extra=ua,
            source="Thunderbird 115 default plain text: format=flowed, 8bit UTF-8, quote and signature separator.",
            exercises="format=flowed text",
        ),
        mail(
            "thunderbird-rfc2231-continuations",
            "Auswertung",
            continuation,
            message_id="tb-2231@bank.example",
            extra=ua,
            source="Thunderbird: long non-ASCII file name as RFC 2231 continuations (name*0*, name*1*).",
            exercises="RFC 2231 continuations",
        ),
        mail(
            "thunderbird-forward-as-attachment",
            "Fwd: Konditionen",
            fwd,
            message_id="tb-fwd@bank.example",
            extra=ua,
            source="Thunderbird 'Forward as Attachment': message/rfc822 with name= and filename=.",
            exercises="message/rfc822 downloadable byte-identical",
            tags=("forward",),
        ),
        mail(
            "thunderbird-html-reply",
            "Re: Konditionen",
            html,
            message_id="tb-html@bank.example",
            extra=[
                *ua,
                ("In-Reply-To", "<inner-tb@bank.example>"),
                ("References", "<inner-tb@bank.example>"),
            ],
            source="Thunderbird HTML reply with moz-cite-prefix and blockquote type=cite.",
            exercises="HTML reply with quote",
        ),
    ]


def gmail() -> list[Spec]:
    """Gmail web, the Gmail app on Android, Samsung Email and Google Calendar."""
    alt = alternative(
        "Hallo,\n\ndanke für die Unterlagen.\n\nGruß\nKarl\n",
        '<div dir="ltr">Hallo,<div><br></div><div>danke für die Unterlagen.</div><div><br></div><div>Gruß</div><div>Karl</div></div>\n',
        boundary="000000000000a1b2c3060d1e2f3a",
    )
    with_file = multipart(
        "mixed",
        [
            alternative(
                "Anbei der Scan.\n",
                '<div dir="ltr">Anbei der Scan.</div>\n',
                boundary="000000000000b2c3d4060d1e2f3b",
            ),
            file(
                PDF,
                "application/pdf",
                name="Scan_2026-11-23.pdf",
                extra=[("Content-ID", "<f_lq1w2e3r0>"), ("X-Attachment-Id", "f_lq1w2e3r0")],
            ),
        ],
        boundary="000000000000c3d4e5060d1e2f3c",
    )
    android = alternative(
        "Passt, bis morgen.\n",
        '<div dir="auto">Passt, bis morgen.</div>\n',
        boundary="000000000000d4e5f6060d1e2f3d",
    )
    samsung = multipart(
        "mixed",
        [
            alternative(
                "Foto anbei\n\n\nGesendet von meinem Galaxy\n",
                '<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body><div dir="auto">Foto anbei</div><div dir="auto"><br></div><div id="composer_signature" dir="auto"><div style="font-size:85%;color:#575757" dir="auto">Gesendet von meinem Galaxy</div></div></body></html>',
                cte="base64",
                boundary="--_com.samsung.android.email_1234567890123456789",
            ),
            file(JPEG, "image/jpeg", name="20261123_101500.jpg"),
        ],
        boundary="--_com.samsung.android.email_1234567890123456788",
    )
    ics = (
        b"BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:REQUEST\r\n"
        b"BEGIN:VEVENT\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nDTSTAMP:20261123T080000Z\r\n"
        b"ORGANIZER;CN=Berta Berater:mailto:adviser@bank.example\r\nUID:0a1b2c3d4e5f@google.com\r\n"
        b"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=kunde@example.com;X-NUM-GUESTS=0:mailto:kunde@example.com\r\n"
        b"SUMMARY:Depotbesprechung\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    cal = multipart(
        "mixed",
        [
            multipart(
                "alternative",
                [
                    text(
                        "Einladung: Depotbesprechung\nDienstag, 1. Dezember 2026 10:00 - 11:00\n",
                        role="alternative",
                    ),
                    text(
                        "<div>Einladung: <b>Depotbesprechung</b><br>Dienstag, 1. Dezember 2026 10:00 - 11:00</div>\n",
                        subtype="html",
                    ),
                    written(
                        [
                            ("Content-Type", 'text/calendar; charset="UTF-8"; method=REQUEST'),
                            ("Content-Transfer-Encoding", "7bit"),
                        ],
                        ics,
                        "text/calendar",
                    ),
                ],
                boundary="000000000000e5f6a7060d1e2f3e",
            ),
            file(ics, "application/ics", name="invite.ics"),
        ],
        boundary="000000000000f6a7b8060d1e2f3f",
    )

    def gmail_fields(subject: str, mid: str, **kw: object) -> list[tuple[str, str | bytes]]:
        return headers(subject, sender=f"Karl Kunde <{ADVISER}>", message_id=mid, **kw)  # type: ignore[arg-type]

    return [
        _spec(
            "gmail-web-alternative",
            message(gmail_fields("Unterlagen erhalten", "CAF=abc123+XyZ@mail.gmail.com"), alt),
            "Unterlagen erhalten",
            'Gmail web: 000000000000… boundary, plain + <div dir="ltr"> HTML, quoted-printable.',
            "Gmail multipart/alternative",
        ),
        _spec(
            "gmail-web-attachment",
            message(gmail_fields("Scan", "CAF=def456+XyZ@mail.gmail.com"), with_file),
            "Scan",
            "Gmail web with an attachment: X-Attachment-Id and Content-ID on the file.",
            "attachment with Content-ID that is not referenced",
        ),
        _spec(
            "android-gmail-app",
            message(gmail_fields("Morgen", "CAF=ghi789+XyZ@mail.gmail.com"), android),
            "Morgen",
            'Gmail app on Android: <div dir="auto">.',
            "mobile Gmail shape",
            tags=("mobile",),
        ),
        mail(
            "android-samsung-email",
            "Foto",
            samsung,
            message_id="samsung.1234567890@email.android.com",
            extra=[("X-Mailer", "Samsung Email")],
            source="Samsung Email on Android: base64 text parts, --_com.samsung.android.email_ boundaries.",
            exercises="base64 text alternatives, photo attachment",
            tags=("mobile",),
        ),
        _spec(
            "gmail-calendar-invite",
            message(
                gmail_fields(
                    "Einladung: Depotbesprechung",
                    "calendar-0a1b2c3d@google.com",
                    extra=[("Reply-To", ADVISER)],
                ),
                cal,
            ),
            "Einladung: Depotbesprechung",
            "Google Calendar invitation: mixed(alternative(plain, html, text/calendar method=REQUEST), invite.ics).",
            "calendar invite with an .ics attachment",
            tags=("calendar",),
        ),
    ]


SMIME_SIG = (
    b"0\x82\x06\x1b\x06\t*\x86H\x86\xf7\r\x01\x07\x02\xa0\x82\x06\x0c0\x82\x06\x08\x02\x01\x011\x0f0\r"
    + bytes(range(256)) * 3
)
PGP_SIG = (
    b"-----BEGIN PGP SIGNATURE-----\r\n\r\n"
    b"iHUEARYKAB0WIQQ7q1Xh2s0l5mJ0GJc2uYx2H0qJmQUCZ2DfkAAKCRA2uYx2H0qJ\r\n"
    b"mQ0+AQCx7kZpYb3yPq1mU6cQvXb3n4H5sP8pW0dQq3sV2rX0cwEA6h0bY5Qw2Zr0\r\n"
    b"Xc3m0VhA1+f6o2kq2kR7uDgk8hJ3mQ4=\r\n=Ab1c\r\n-----END PGP SIGNATURE-----\r\n"
)


def signed() -> list[Spec]:
    """S/MIME and PGP/MIME signed mail: the signature must download byte-identical."""
    smime = multipart(
        "signed",
        [
            alternative(
                "Signierte Nachricht.\n",
                "<html><body><p>Signierte Nachricht.</p></body></html>\n",
                boundary="----=_NextPart_001_0017_01DA1E2F.3A4B5C60",
            ),
            written(
                [
                    ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", 'attachment; filename="smime.p7s"'),
                ],
                SMIME_SIG,
                "application/pkcs7-signature",
                in_base64=True,
            ),
        ],
        boundary="----=_NextPart_000_0016_01DA1E2F.3A4B5C60",
        param='multipart/signed;\n\tprotocol="application/pkcs7-signature";\n\tmicalg=sha-256;\n\tboundary="----=_NextPart_000_0016_01DA1E2F.3A4B5C60"',
        preamble=b"This is a multipart message in MIME format.\n\n",
    )
    opaque = written(
        [
            ("Content-Type", 'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", 'attachment; filename="smime.p7m"'),
        ],
        SMIME_SIG + b"opaque",
        "application/pkcs7-mime",
        in_base64=True,
    )
    pgp = multipart(
        "signed",
        [
            multipart(
                "mixed",
                [
                    text("Signiert mit OpenPGP.\n", cte="quoted-printable", charset="UTF-8"),
                    file(PDF, "application/pdf", name="Kontoauszug.pdf"),
                ],
                boundary="------------pgp-inner-3F2E1D0C",
                extra=[("Content-Language", "de-DE")],
            ),
            written(
                [
                    ("Content-Type", 'application/pgp-signature; name="OpenPGP_signature.asc"'),
                    ("Content-Description", "OpenPGP digital signature"),
                    ("Content-Disposition", 'attachment; filename="OpenPGP_signature.asc"'),
                ],
                PGP_SIG,
                "application/pgp-signature",
            ),
        ],
        boundary="------------pgp-outer-9A8B7C6D",
        param='multipart/signed; micalg=pgp-sha256;\n protocol="application/pgp-signature";\n boundary="------------pgp-outer-9A8B7C6D"',
        preamble=b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n",
    )
    enc_payload = b"-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAAAAAAAAAAASAQdAq1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c2\r\n=XyZ0\r\n-----END PGP MESSAGE-----\r\n"
    pgp_enc = multipart(
        "encrypted",
        [
            written(
                [
                    ("Content-Type", "application/pgp-encrypted"),
                    ("Content-Description", "PGP/MIME version identification"),
                ],
                b"Version: 1\r\n",
                "application/pgp-encrypted",
            ),
            written(
                [
                    ("Content-Type", 'application/octet-stream; name="encrypted.asc"'),
                    ("Content-Description", "OpenPGP encrypted message"),
                    ("Content-Disposition", 'inline; filename="encrypted.asc"'),
                ],
                enc_payload,
                "application/octet-stream",
            ),
        ],
        boundary="------------pgp-enc-5E4D3C2B",
        param='multipart/encrypted;\n protocol="application/pgp-encrypted";\n boundary="------------pgp-enc-5E4D3C2B"',
        preamble=b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n",
    )
    clearsigned = text(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nDer Betrag ist angewiesen.\n-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQQ7q1Xh2s0l5mJ0GJc2uYx2H0qJmQUCZ2DfkAAKCRA2uYx2H0qJ\n=Q1w2\n-----END PGP SIGNATURE-----\n",
        cte="7bit",
        charset="us-ascii",
    )
    return [
        mail(
            "smime-multipart-signed",
            "Signiert (S/MIME)",
            smime,
            message_id="smime1@bank.example",
            extra=[("X-Mailer", "Microsoft Outlook 16.0")],
            source="Outlook S/MIME clear-signed: multipart/signed protocol=application/pkcs7-signature, micalg=sha-256, smime.p7s base64.",
            exercises="signed mail: signature part downloadable byte-identical, signed part unchanged",
            tags=("signed",),
        ),
        mail(
            "smime-opaque-signed",
            "Signiert (opak)",
            opaque,
            message_id="smime2@bank.example",
            source="S/MIME opaque signed-data (application/pkcs7-mime smime-type=signed-data), as some gateways send.",
            exercises="top-level application/pkcs7-mime downloadable",
            tags=("signed",),
        ),
        mail(
            "pgp-mime-signed",
            "Signiert (OpenPGP)",
            pgp,
            message_id="pgp1@bank.example",
            extra=[("User-Agent", "Mozilla Thunderbird")],
            source="Thunderbird 115 OpenPGP signed: multipart/signed protocol=application/pgp-signature with OpenPGP_signature.asc.",
            exercises="PGP/MIME signature downloadable byte-identical",
            tags=("signed",),
        ),
        mail(
            "pgp-mime-encrypted",
            "Verschlüsselt (OpenPGP)",
            pgp_enc,
            message_id="pgp2@bank.example",
            extra=[("User-Agent", "Mozilla Thunderbird")],
            source="Thunderbird OpenPGP encrypted (RFC 3156 multipart/encrypted): both parts downloadable.",
            exercises="multipart/encrypted parts downloadable",
            tags=("signed",),
        ),
        mail(
            "pgp-inline-clearsigned",
            "Anweisung",
            clearsigned,
            message_id="pgp3@bank.example",
            extra=[("User-Agent", "Mutt/2.2.12")],
            source="Mutt / Enigmail inline PGP: a clear-signed text/plain body.",
            exercises="inline PGP text shown as written",
            tags=("signed",),
        ),
    ]


def forwards() -> list[Spec]:
    """Forwarded mail: attachments of message/rfc822 in several shapes."""
    inner1 = b"From: Clara <clara@bank.example>\r\nTo: adviser@bank.example\r\nSubject: Erste\r\nDate: Thu, 19 Nov 2026 10:00:00 +0100\r\nMessage-ID: <f1@bank.example>\r\n\r\nErste weitergeleitete Nachricht.\r\n"
    inner2_body = multipart(
        "mixed",
        [text("Zweite mit Anhang.\n"), file(PDF, "application/pdf", name="a.pdf")],
        boundary="inner2-b",
    )
    inner2, _ = message(
        headers("Zweite", sender="Dora <dora@bank.example>", message_id="f2@bank.example"),
        inner2_body,
    )
    many = multipart(
        "mixed",
        [
            text("Zwei Nachrichten zur Info.\n"),
            embedded(inner1, disposition="attachment"),
            embedded(inner2, disposition="attachment"),
        ],
        boundary="000000000000fwd2a1b2c3d4e5f6",
    )
    b64 = multipart(
        "mixed",
        [
            text("Weitergeleitet (Exchange kodiert sie base64).\n"),
            embedded(inner1, cte="base64", disposition='attachment; filename="Erste.eml"'),
        ],
        boundary="_005_fwdb64_",
    )
    eight = "From: Ernst <ernst@bank.example>\r\nSubject: Äpfel und Birnen\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄpfel kosten 2 €.\r\n".encode(
        "cp1252"
    )
    eightbit = multipart(
        "mixed", [text("Mit 8-Bit-Inhalt.\n"), embedded(eight, cte="8bit")], boundary="fwd-8bit-b"
    )
    chain = inner1
    for depth in range(3):
        chain = (
            f'From: Kette{depth} <k{depth}@bank.example>\r\nSubject: Fwd: Kette {depth}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="chain{depth}"\r\n\r\n--chain{depth}\r\nContent-Type: text/plain\r\n\r\nEbene {depth}\r\n--chain{depth}\r\nContent-Type: message/rfc822\r\n\r\n'.encode()
            + chain
            + f"\r\n--chain{depth}--\r\n".encode()
        )
    chained = multipart(
        "mixed", [text("Weiterleitungskette.\n"), embedded(chain)], boundary="fwd-chain-top"
    )
    inline_fwd = text(
        "Siehe unten.\n\n-------- Weitergeleitete Nachricht --------\nBetreff: \tErste\nDatum: \t19.11.2026 10:00\nVon: \tClara <clara@bank.example>\n\nErste weitergeleitete Nachricht.\n",
        cte="8bit",
    )
    return [
        mail(
            "gmail-forward-two-messages",
            "Fwd: zwei Nachrichten",
            many,
            message_id="fwd1@bank.example",
            source="Gmail 'forward as attachment' of two messages (one with its own attachment).",
            exercises="two message/rfc822 parts, one multipart inside",
            tags=("forward",),
        ),
        mail(
            "exchange-forward-base64-rfc822",
            "WG: Erste",
            b64,
            message_id="fwd2@bank.example",
            source="Exchange 2016 transport re-encoding an attached message as base64 (against RFC 2046, seen in practice).",
            exercises="message/rfc822 with Content-Transfer-Encoding: base64",
            tags=("forward",),
        ),
        mail(
            "forward-8bit-rfc822",
            "Fwd: Äpfel",
            eightbit,
            message_id="fwd3@bank.example",
            source="Mutt forwarding an 8-bit Latin-1 message as attachment.",
            exercises="8-bit message/rfc822 downloadable byte-identical",
            tags=("forward",),
        ),
        mail(
            "forward-chain-three-deep",
            "Fwd: Kette",
            chained,
            message_id="fwd4@bank.example",
            source="Three forwards as attachment inside each other (support desk escalations).",
            exercises="nested message/rfc822",
            tags=("forward",),
        ),
        mail(
            "thunderbird-forward-inline",
            "Fwd: Erste",
            inline_fwd,
            message_id="fwd5@bank.example",
            extra=[("User-Agent", "Mozilla Thunderbird")],
            source="Thunderbird 'Forward inline' in plain text with tab-separated header table.",
            exercises="inline forward text",
        ),
    ]


def libraries() -> list[Spec]:
    """Shapes of mail libraries and automated senders."""
    java = multipart(
        "mixed",
        [
            text("Ihr Kontoauszug ist da.\n", charset="UTF-8", cte="7bit"),
            file(PDF, "application/pdf", name="Kontoauszug_11_2026.pdf"),
        ],
        boundary="----=_Part_0_1234567890.1700000000000",
    )
    dotnet = alternative(
        "Ihr Passwort läuft ab.\n",
        "<p>Ihr Passwort l&auml;uft ab.</p>",
        charset="utf-8",
        cte="base64",
        boundary="--boundary_0_9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    )
    python = multipart(
        "mixed",
        [
            text("Report attached.\n", cte="7bit", charset="us-ascii"),
            file(b"a,b\r\n1,2\r\n", "text/csv", name="report.csv"),
        ],
        boundary="===============8170917402953519430==",
    )
    sap_text = "KONTOAUSZUG NR. 11/2026\nBUCHUNGSDATUM  BETRAG\n23.11.2026     1.234,56\n"
    sap = Part([], sap_text.replace("\n", "\r\n").encode(), [Shown(sap_text)])
    sap_fields = [
        ("From", f"SAP <{ADVISER}>"),
        ("To", CUSTOMER),
        ("Subject", "KONTOAUSZUG"),
        ("Date", "23 Nov 2026 09:00:00 +0100"),
        ("Message-ID", "<sap1@bank.example>"),
    ]
    notes = alternative(
        "Bitte um Rückruf.\n",
        '<font size=2 face="sans-serif">Bitte um Rückruf.</font>\n',
        charset="ISO-8859-1",
        boundary="=_alternative 0036E2A3C1258A7B_=",
    )
    mailchimp_html = (
        "<!doctype html><html><head><title>Newsletter</title><style>body{margin:0}</style></head><body><table><tr><td><h1>Marktbericht November</h1><p>"
        + " ".join(["Die Märkte haben sich im November uneinheitlich entwickelt."] * 12)
        + "</p></td></tr></table></body></html>\n"
    )
    newsletter = alternative(
        "Marktbericht November\n\n"
        + " ".join(["Die Märkte haben sich im November uneinheitlich entwickelt."] * 12)
        + "\n",
        mailchimp_html,
        boundary="_----------=_MCPart_1234567890",
    )
    digest_msgs = [
        f"From: m{i}@lists.bank.example\r\nSubject: Beitrag {i}\r\n\r\nInhalt von Beitrag {i}.\r\n".encode()
        for i in range(3)
    ]
    digest_parts = [written([], d, "message/rfc822") for d in digest_msgs]
    digest = multipart("digest", digest_parts, boundary="===============digest0123==")
    mailman_digest = multipart(
        "mixed",
        [
            text(
                "Heutige Themen:\n  1. Beitrag 0\n  2. Beitrag 1\n  3. Beitrag 2\n",
                cte="7bit",
                charset="us-ascii",
            ),
            digest,
        ],
        boundary="===============digesttop==",
    )
    return [
        mail(
            "javamail-statement",
            "Kontoauszug",
            java,
            message_id="1234567.0.1700000000000@bank.example",
            source="JavaMail 1.6 (core banking mail-out): ----=_Part_0_… boundary.",
            exercises="library shape, PDF attachment",
        ),
        mail(
            "dotnet-system-net-mail",
            "Passwort",
            dotnet,
            message_id="dotnet1@bank.example",
            extra=[("X-Mailer", "System.Net.Mail")],
            source=".NET System.Net.Mail AlternateViews: base64 UTF-8 plain and HTML.",
            exercises="base64 alternatives with HTML entities",
        ),
        mail(
            "python-email-report",
            "Report",
            python,
            message_id="python1@bank.example",
            source="Python's email package (MIMEMultipart) from a reporting script: ===… boundary, CSV attachment.",
            exercises="text/csv attachment downloadable (not shown)",
        ),
        _spec(
            "sap-no-mime",
            message(sap_fields, sap),
            "KONTOAUSZUG",
            "A host system (SAP SMTP node, plain RFC 822) without MIME-Version or Content-Type; Date without weekday.",
            "no MIME headers at all",
        ),
        mail(
            "lotus-notes-alternative",
            "Rückruf",
            notes,
            message_id="OF0036E2A3.C1258A7B-ONC1258A7B@bank.example",
            extra=[("X-Mailer", "IBM Notes Release 9.0.1FP10")],
            source="IBM Notes 9: boundary with spaces ('=_alternative … _=').",
            exercises="boundary containing spaces",
        ),
        mail(
            "mailchimp-newsletter",
            "Marktbericht",
            newsletter,
            message_id="newsletter1@mail.bank.example",
            extra=[("List-Unsubscribe", "<https://bank.example/unsub>")],
            source="Mailchimp newsletter: long quoted-printable HTML with <style> and tables.",
            exercises="long soft-wrapped QP HTML",
        ),
        mail(
            "mailman-digest",
            "bank-list Digest, Vol 12, Issue 3",
            mailman_digest,
            message_id="digest1@lists.bank.example",
            source="GNU Mailman MIME digest: multipart/digest whose parts default to message/rfc822 (no headers of their own).",
            exercises="multipart/digest default types",
        ),
    ]


def specs() -> list[Spec]:
    """The client and library shapes."""
    return [*apple(), *outlook(), *thunderbird(), *gmail(), *signed(), *forwards(), *libraries()]
