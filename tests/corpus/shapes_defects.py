# ruff: noqa: E501
"""Corpus shapes for the known defect classes: one or more messages per class.

Each shape names the real-world source it imitates. The defect numbers are those of the
fidelity contract's list of defects (docs/fidelity.md).
"""

from __future__ import annotations

from tests.corpus.build import ADVISER, CUSTOMER, Spec, headers, mail
from tests.corpus.mime import (
    CR,
    CRLF,
    LF,
    Download,
    Shown,
    alternative,
    embedded,
    ew_b,
    ew_q,
    file,
    header_block,
    message,
    multipart,
    text,
)

LATIN1_BODY = "Sehr geehrte Damen und Herren,\n\nanbei die Unterlagen.\n\nMit freundlichen Grüßen\nBärbel Schröder\n"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _plain_latin1(
    name: str,
    fields: list[tuple[str, str | bytes]],
    *,
    subject: str,
    source: str,
    exercises: str,
    defects: tuple[int, ...],
    shown: tuple[str, ...] = (),
    trigger: str = "envelope",
    subject_after: str | None = None,
    charset: str = "iso-8859-1",
) -> Spec:
    body = text(LATIN1_BODY, charset=charset, cte="8bit")
    raw, expect = message(fields, body)
    return Spec(
        name, raw, expect, source, exercises, subject, shown, defects, trigger, subject_after
    )


def eight_bit_headers() -> list[Spec]:
    """Defect 1: raw 8-bit bytes in header fields (addresses, Subject, display names)."""
    return [
        _plain_latin1(
            "d01-latin1-byte-in-to",
            headers("Unterlagen", to=b"\xb4google@example.com", message_id="d01a@bank.example"),
            subject="Unterlagen",
            shown=("´google@example.com",),
            source="Real message seen in a bank's outbound queue: a typo in a German keyboard "
            "layout (acute accent key) put a raw Latin-1 byte into the To address.",
            exercises="8-bit byte inside an address in To; body ISO-8859-1 8bit",
            defects=(1,),
        ),
        _plain_latin1(
            "d01-latin1-byte-in-subject",
            headers(b"\xb4!", message_id="d01b@bank.example"),
            subject="´!",
            source="Same keyboard typo in the Subject, as sent by an old Outlook Express that "
            "wrote 8-bit headers without RFC 2047.",
            exercises="8-bit Latin-1 byte in Subject; fallback to the message's charset",
            defects=(1,),
        ),
        _plain_latin1(
            "d01-latin1-display-name",
            headers(
                b"Kontoer\xf6ffnung",
                sender=b"J\xfcrgen M\xfcller <" + ADVISER.encode() + b">",
                to=b"Fran\xe7ois L\xe9vesque <" + CUSTOMER.encode() + b">",
                message_id="d01c@bank.example",
            ),
            subject="Kontoeröffnung",
            shown=("Jürgen Müller", "François Lévesque"),
            source="Eudora 7 / old PHP mail() scripts: Latin-1 display names and Subject "
            "written raw, no encoded words.",
            exercises="raw ISO-8859-1 in From, To, Subject",
            defects=(1,),
        ),
        _plain_latin1(
            "d01-cp1252-quotes-subject",
            headers(b"\x93Angebot\x94 \x96 Stand 2026", message_id="d01d@bank.example"),
            subject="“Angebot” – Stand 2026",
            charset="windows-1252",
            source="Outlook 2003 with 'send as plain text' and 8-bit headers enabled: Word's "
            "smart quotes and dashes as raw windows-1252 bytes.",
            exercises="raw windows-1252 bytes (0x93 0x94 0x96) in Subject",
            defects=(1,),
        ),
        _plain_latin1(
            "d01-8bit-cc-and-x-mailer",
            headers(
                "Termin",
                message_id="d01e@bank.example",
                extra=[
                    ("Cc", b"Ren\xe9e Fa\xdfbender <renee@partner.example>"),
                    ("X-Mailer", b"M\xfcllerMail 2.1"),
                    ("Organization", b"Sparkasse K\xf6ln"),
                ],
            ),
            subject="Termin",
            shown=("Renée Faßbender",),
            source="Mutt with send_charset unset on a Latin-1 terminal: raw bytes in Cc and "
            "in custom fields.",
            exercises="raw 8-bit bytes in Cc, X-Mailer and Organization",
            defects=(1,),
        ),
        _plain_latin1(
            "d01-latin1-to-subject-trigger",
            headers(
                b"WebCrypt: Unterlagen \xe4",
                to=b"\xb4google@example.com",
                message_id="d01f@bank.example",
            ),
            subject="WebCrypt: Unterlagen ä",
            subject_after="Unterlagen ä",
            trigger="subject",
            shown=("´google@example.com",),
            source="The typo above in a mail the adviser marked for encryption in the Subject.",
            exercises="8-bit bytes in To and in a Subject that carries the trigger word",
            defects=(1,),
        ),
        _raw_utf8_headers(),
    ]


def _raw_utf8_headers() -> Spec:
    fields = headers(
        "Grüße aus Zürich – Ihr Depot",
        sender=f"Jürgen Müller <{ADVISER}>",
        to=f"Zoë Ångström <{CUSTOMER}>",
        message_id="d01g@bank.example",
    )
    raw, expect = message(fields, text("Grüezi Frau Ångström,\n\nalles Gute.\n", cte="8bit"))
    return Spec(
        "d01-raw-utf8-headers-rfc6532",
        raw,
        expect,
        source="RFC 6532 (internationalized headers) as written by Thunderbird 115 and "
        "Gmail for SMTPUTF8 peers: raw UTF-8 in Subject and display names.",
        exercises="raw UTF-8 header text",
        subject="Grüße aus Zürich – Ihr Depot",
        shown=("Jürgen Müller", "Zoë Ångström"),
        defects=(1,),
    )


def _multipart_report(eol: bytes) -> tuple[bytes, list]:
    body = multipart(
        "mixed",
        [
            text("Erste Zeile des Berichts.\nZweite Zeile mit Umlauten: äöü.\n", eol=eol),
            file(PDF, "application/pdf", name="bericht.pdf", eol=eol),
        ],
        boundary="b1_cr_7f3a",
        eol=eol,
    )
    fields = headers("Monatsbericht", message_id="d02@bank.example")
    return message(fields, body, eol=eol)


def bare_cr() -> list[Spec]:
    """Defect 2: bare CR line ends (classic Mac OS mailers, some scanners' mail-out)."""
    multi_raw, multi_expect = _multipart_report(CR)
    mixed_fields = header_block(
        headers("Gemischte Zeilenenden", message_id="d02d@bank.example"), CRLF
    )
    mixed_raw = (
        mixed_fields
        + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + b"Zeile mit CRLF\r\nZeile mit LF\nZeile mit CR\rLetzte Zeile\r\n"
    )
    return [
        mail(
            "d02-bare-cr-plain",
            "Kontoauszug",
            text("Guten Tag,\nIhr Kontoauszug liegt bereit.\nViele Grüße\n", cte="8bit", eol=CR),
            message_id="d02a@bank.example",
            source="Classic Mac OS (Claris Emailer, Eudora for Mac 4) and some scan-to-mail "
            "devices: CR alone as line end throughout.",
            exercises="bare CR line ends in headers and body; single text part",
            eol=CR,
            defects=(2,),
            tags=("bare-cr",),
        ),
        Spec(
            "d02-bare-cr-multipart",
            multi_raw,
            multi_expect,
            source="A document-management system's mail-out on classic Mac line ends; "
            "multipart with a PDF attachment.",
            exercises="bare CR line ends around MIME boundaries; base64 attachment",
            subject="Monatsbericht",
            defects=(2,),
            tags=("bare-cr",),
        ),
        mail(
            "d02-bare-cr-subject-trigger",
            "WebCrypt Kontoauszug",
            text("Vertrauliche Zeile eins.\nVertrauliche Zeile zwei.\n", cte="8bit", eol=CR),
            message_id="d02c@bank.example",
            source="The classic Mac shape with the trigger word in the Subject.",
            exercises="Subject rewrite on a message with bare CR line ends",
            eol=CR,
            subject_after="Kontoauszug",
            defects=(2,),
            tags=("bare-cr",),
        ),
        Spec(
            "d02-mixed-line-ends",
            mixed_raw,
            [Shown("Zeile mit CRLF\nZeile mit LF\nZeile mit CR\nLetzte Zeile\n")],
            source="A message assembled by a script from pieces of different origin (seen in "
            "mailing-list archives): CRLF, LF and CR in one body.",
            exercises="mixed line ends",
            subject="Gemischte Zeilenenden",
            defects=(2,),
            tags=("mixed-eol",),
        ),
    ]


def encoded_word_subjects() -> list[Spec]:
    """Defects 3 and 13: RFC 2047 subjects in legacy charsets, spacing around words."""
    cases = [
        (
            "d03-subject-latin1-q",
            ew_q("Frösche und Kröten", "ISO-8859-1"),
            "Frösche und Kröten",
            "Outlook 2010 (German): Q-encoded ISO-8859-1 Subject.",
        ),
        (
            "d03-subject-latin9-words-and-text",
            f"{ew_q('Grüße', 'iso-8859-15')} aus {ew_q('Köln €', 'iso-8859-15')}",
            "Grüße aus Köln €",
            "Thunderbird 2 with ISO-8859-15 default: encoded words with plain words between.",
        ),
        (
            "d03-subject-koi8r-b",
            ew_b("Отчёт за квартал", "koi8-r"),
            "Отчёт за квартал",
            "The Bat! / Outlook Express (Russian locale): B-encoded KOI8-R.",
        ),
        (
            "d03-subject-gb2312-b",
            ew_b("会议通知", "gb2312"),
            "会议通知",
            "Foxmail / Outlook (Simplified Chinese locale): B-encoded GB2312.",
        ),
        (
            "d03-subject-iso2022jp-b",
            ew_b("お見積りの件", "ISO-2022-JP", "iso2022_jp"),
            "お見積りの件",
            "Becky! / Outlook (Japanese locale): B-encoded ISO-2022-JP.",
        ),
        (
            "d03-subject-cp1252-q-quotes",
            ew_q("„Vertrag“ – Entwurf", "windows-1252"),
            "„Vertrag“ – Entwurf",
            "Outlook 2016: windows-1252 Q-encoded subject with Word's quotes and dash.",
        ),
        (
            "d03-subject-adjacent-split-utf8",
            "=?UTF-8?B?w5xiZXJzaWNodCBmw7xyIE3D?=\n =?UTF-8?B?pHJ6IDIwMjY=?=",
            "Übersicht für März 2026",
            "Apple Mail / Gmail: long subject split into adjacent B words, the split falling "
            "inside a UTF-8 character (joined before decoding, RFC 2047 section 6.2).",
        ),
        (
            "d03-subject-mixed-charsets",
            f"{ew_q('Re: Müller ', 'iso-8859-1')} {ew_b('Иванов', 'koi8-r')} und "
            f"{ew_q('Søn', 'utf-8')}",
            "Re: Müller Иванов und Søn",
            "Hand-edited reply chains in list archives: three charsets in one Subject; "
            "adjacent encoded words join without the space (RFC 2047 section 6.2).",
        ),
        (
            "d03-subject-latin1-with-language",
            ew_q("Fröschè ÄÖ", "ISO-8859-1*de", "latin-1"),
            "Fröschè ÄÖ",
            "RFC 2231 section 5 language tag inside an encoded word (charset*lang), as some "
            "German groupware servers write it.",
        ),
        (
            "d03-subject-mislabelled-us-ascii",
            ew_q("Frösche", "us-ascii", "latin-1"),
            "Frösche",
            "A web form mailer that labels every encoded word us-ascii, 8-bit bytes included "
            "(a decoding exists: windows-1252).",
        ),
        (
            "d03-subject-unknown-8bit",
            ew_q("Frösche", "unknown-8bit", "latin-1"),
            "Frösche",
            "Mutt/Postfix 'unknown-8bit' label on Latin-1 bytes (RFC 1428 style).",
        ),
        (
            "d03-subject-hebrew-iso-8859-8-i",
            ew_b("שלום עולם", "iso-8859-8-i", "iso-8859-8"),
            "שלום עולם",
            "Outlook (Hebrew locale): ISO-8859-8-I, logical-order Hebrew (RFC 1556 label).",
        ),
        (
            "d03-subject-thai-windows-874",
            ew_b("สวัสดีครับ", "windows-874", "cp874"),
            "สวัสดีครับ",
            "Outlook (Thai locale): the windows-874 label, which Python knows as cp874.",
        ),
        (
            "d03-subject-macintosh",
            ew_q("Frösche", "macintosh", "mac_roman"),
            "Frösche",
            "Eudora / Outlook Express for Mac OS 9: Mac Roman encoded words (IANA name "
            "'macintosh').",
        ),
        (
            "d03-subject-korean-ks-c-5601",
            ew_b("안녕하세요 보고서", "ks_c_5601-1987", "cp949"),
            "안녕하세요 보고서",
            "Outlook (Korean locale): ks_c_5601-1987.",
        ),
        (
            "d13-subject-word-then-folded-text",
            f"{ew_q('Verträge', 'UTF-8')}\n und Konditionen",
            "Verträge und Konditionen",
            "Outlook 365: an encoded word, then the rest of the Subject as plain text on a "
            "folded continuation line.",
        ),
        (
            "d13-subject-folded-text-then-word",
            f"Ihre\n {ew_q('Kündigung', 'ISO-8859-1')}\n zum 31.12.",
            "Ihre Kündigung zum 31.12.",
            "Lotus Notes 8: plain text, folded encoded word, folded plain text.",
        ),
    ]
    out = []
    for index, (name, value, decoded, source) in enumerate(cases):
        defects = (13,) if name.startswith("d13") else (3,)
        out.append(
            mail(
                name,
                value,
                text("Guten Tag,\nsiehe Betreff.\n", cte="7bit", charset="us-ascii"),
                message_id=f"d03-{index}@bank.example",
                source=source,
                exercises="RFC 2047 Subject decoding",
                decoded=decoded,
                defects=defects,
            )
        )
    for name, value, decoded, source in [
        (
            "d13-subject-word-then-comment",
            f"WebCrypt Re: {ew_q('Verträge', 'UTF-8')}\n (Entwurf)",
            "Re: Verträge (Entwurf)",
            "Outlook 365 reply: an encoded word, then a folded parenthesised remark.",
        ),
        (
            "d13-subject-word-then-comma",
            f"WebCrypt {ew_q('Verträge', 'utf-8')},\n und mehr",
            "Verträge, und mehr",
            "A web mailer gluing a comma to the encoded word, then folding.",
        ),
    ]:
        out.append(
            mail(
                name,
                value,
                text("Guten Tag,\nsiehe Betreff.\n", cte="7bit", charset="us-ascii"),
                message_id=f"{name}@bank.example",
                source=source,
                exercises="spacing between an encoded word and folded text after it, in the "
                "rewritten Subject and in the carrier",
                decoded="WebCrypt " + decoded,
                subject_after=decoded,
                defects=(13,),
            )
        )
    out.append(
        mail(
            "d13-subject-trigger-word-then-folded",
            f"WebCrypt {ew_q('Verträge', 'UTF-8')}\n und Konditionen",
            text("Guten Tag,\nanbei die Verträge.\n", cte="8bit"),
            message_id="d13t@bank.example",
            source="Outlook 365 as above, with the trigger word typed before the subject.",
            exercises="Subject rewrite keeps the space between encoded word and plain text",
            decoded="WebCrypt Verträge und Konditionen",
            subject_after="Verträge und Konditionen",
            defects=(13, 3),
        )
    )
    return out


def text_beside_html() -> list[Spec]:
    """Defect 4: text/plain next to text/html inside multipart/mixed."""
    footer = "-- \nbank-list mailing list\nhttps://lists.bank.example/listinfo/bank-list\n"
    alt = alternative(
        "Hallo Liste,\ndie Zahlen sind da.\n",
        "<html><body><p>Hallo Liste,</p><p>die <b>Zahlen</b> sind da.</p></body></html>",
        boundary="===============alt1==",
    )
    mailman = multipart(
        "mixed",
        [alt, text(footer, cte="7bit", charset="us-ascii")],
        boundary="===============5091348231468462376==",
    )
    php = multipart(
        "mixed",
        [
            text("Ihre Bestellung 4711 ist eingegangen.\n"),
            text("<p>Ihre Bestellung <b>4711</b> ist eingegangen.</p>\n", subtype="html"),
        ],
        boundary="b1_5c8a9f0e1d2b3c4d",
    )
    apple = multipart(
        "mixed",
        [
            text("<html><body>Anbei der Vertrag.</body></html>", subtype="html"),
            file(PDF, "application/pdf", name="Vertrag.pdf", disposition="inline"),
            text("<html><body><br>Viele Grüße<br>Berta</body></html>", subtype="html"),
            text("Gesendet von meinem iPad\n", cte="7bit", charset="us-ascii"),
        ],
        boundary="Apple-Mail=_3F1A2B3C-4D5E-6F70-8192-A3B4C5D6E7F8",
    )
    return [
        mail(
            "d04-mailman-footer-part",
            "Zahlen Q3",
            mailman,
            message_id="d04a@bank.example",
            source="GNU Mailman 2.1 list with a footer: the list appends its footer as a separate text/plain part beside the poster's multipart/alternative.",
            exercises="text/plain beside multipart/alternative in multipart/mixed",
            defects=(4,),
        ),
        mail(
            "d04-phpmailer-plain-and-html",
            "Bestellbestätigung",
            php,
            message_id="d04b@bank.example",
            extra=[("X-Mailer", "PHPMailer 5.2.9")],
            source="PHPMailer 5 misused with AddAttachment-style bodies: text/plain and text/html side by side in multipart/mixed.",
            exercises="text/plain and text/html both shown",
            defects=(4,),
        ),
        mail(
            "d04-apple-mail-html-around-pdf",
            "Vertrag",
            apple,
            message_id="d04c@bank.example",
            source="Apple Mail (macOS 14) with an inline PDF in the middle of the text: html, pdf, html, plain signature.",
            exercises="several html and plain parts around an inline attachment",
            defects=(4, 7),
        ),
    ]


def message_subtypes() -> list[Spec]:
    """Defect 5: message/delivery-status, disposition-notification, external-body, global."""
    status = (
        b"Reporting-MTA: dns; mx1.bank.example\nX-Postfix-Queue-ID: 4XyZ1a2B3c\n"
        b"Arrival-Date: Mon, 23 Nov 2026 09:00:01 +0100 (CET)\n\n"
        b"Final-Recipient: rfc822; kunde@example.com\nOriginal-Recipient: rfc822;kunde@example.com\n"
        b"Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.com\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <kunde@example.com>: Recipient address rejected\n"
    )
    headers_part = b"From: adviser@bank.example\nTo: kunde@example.com\nSubject: Angebot\nMessage-ID: <orig1@bank.example>\n"
    dsn = multipart(
        "report",
        [
            text(
                "This is the mail system at host mx1.bank.example.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n",
                cte="7bit",
                charset="us-ascii",
            ),
            embedded(
                status.replace(b"\n", b"\r\n"),
                content_type="message/delivery-status",
                disposition=None,
            ),
            embedded(headers_part.replace(b"\n", b"\r\n"), content_type="text/rfc822-headers"),
        ],
        boundary="4XyZ1a2B3c.1700000000/mx1.bank.example",
        param='multipart/report; report-type=delivery-status;\n\tboundary="4XyZ1a2B3c.1700000000/mx1.bank.example"',
    )
    mdn_fields = (
        b"Reporting-UA: kunde-pc; Microsoft Outlook 16.0\r\nFinal-Recipient: rfc822;kunde@example.com\r\n"
        b"Original-Message-ID: <orig2@bank.example>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
    )
    mdn = multipart(
        "report",
        [
            text("Ihre Nachricht wurde gelesen.\n", cte="7bit", charset="us-ascii"),
            embedded(mdn_fields, content_type="message/disposition-notification"),
        ],
        boundary="----=_NextPart_mdn_01D9",
        param='multipart/report; report-type=disposition-notification;\n\tboundary="----=_NextPart_mdn_01D9"',
    )
    external_inner = b"Content-Type: application/pdf\r\nContent-ID: <ext1@bank.example>\r\n\r\n"
    ext = multipart(
        "mixed",
        [
            text("Das Dokument ist zu groß für eine Mail; es liegt hier:\n"),
            embedded(
                external_inner,
                content_type='message/external-body; access-type=URL;\n URL="https://files.bank.example/doc/4711.pdf"',
            ),
        ],
        boundary="ext-boundary-01",
    )
    global_inner = "From: Jürgen <adviser@bank.example>\r\nTo: kunde@example.com\r\nSubject: Grüße\r\nMessage-ID: <inner-global@bank.example>\r\n\r\nInnerer Text mit Umlauten äöü.\r\n".encode()
    glob = multipart(
        "mixed",
        [
            text("Weitergeleitet, siehe Anhang.\n"),
            embedded(global_inner, content_type="message/global", cte="8bit"),
        ],
        boundary="global-b-77",
    )
    gdsn_status = "Reporting-MTA: dns; mx1.bank.example\r\n\r\nFinal-Recipient: utf-8; zoë@exämple.com\r\nAction: failed\r\nStatus: 5.1.1\r\n".encode()
    gdsn = multipart(
        "report",
        [
            text("Delivery failed.\n", cte="7bit", charset="us-ascii"),
            embedded(gdsn_status, content_type="message/global-delivery-status", cte="8bit"),
            embedded(
                global_inner.split(b"\r\n\r\n")[0] + b"\r\n",
                content_type="message/global-headers",
                cte="8bit",
            ),
        ],
        boundary="gdsn-b-01",
        param='multipart/report; report-type=global-delivery-status; boundary="gdsn-b-01"',
    )
    return [
        mail(
            "d05-postfix-dsn",
            "Undelivered Mail Returned to Sender",
            dsn,
            sender="MAILER-DAEMON@mx1.bank.example (Mail Delivery System)",
            message_id="d05a@mx1.bank.example",
            extra=[("Auto-Submitted", "auto-replied")],
            source="Postfix 3.7 bounce (bounce(8) template): multipart/report with message/delivery-status and text/rfc822-headers.",
            exercises="message/delivery-status and text/rfc822-headers downloadable byte-identical",
            defects=(5,),
            tags=("report",),
        ),
        mail(
            "d05-outlook-mdn",
            "Gelesen: Angebot",
            mdn,
            sender=f"Karl Kunde <{CUSTOMER}>",
            to=f"<{ADVISER}>",
            message_id="d05b@example.com",
            source="Outlook 2016 read receipt (RFC 8098 MDN).",
            exercises="message/disposition-notification downloadable",
            defects=(5,),
            tags=("report",),
        ),
        mail(
            "d05-external-body-url",
            "Großes Dokument",
            ext,
            message_id="d05c@bank.example",
            source="RFC 2046 section 5.2.3 message/external-body with access-type=URL (as some document systems send large files).",
            exercises="message/external-body downloadable",
            defects=(5,),
        ),
        mail(
            "d05-message-global",
            "Weitergeleitet (SMTPUTF8)",
            glob,
            message_id="d05d@bank.example",
            source="RFC 6532 message/global attachment (Thunderbird forward of an SMTPUTF8 mail).",
            exercises="message/global downloadable byte-identical",
            defects=(5,),
        ),
        mail(
            "d05-global-delivery-status",
            "Delivery Status Notification (Failure)",
            gdsn,
            sender="MAILER-DAEMON@mx1.bank.example",
            message_id="d05e@mx1.bank.example",
            source="RFC 6533 internationalized DSN (Postfix with smtputf8_enable).",
            exercises="message/global-delivery-status and message/global-headers downloadable",
            defects=(5,),
            tags=("report",),
        ),
    ]


def unquoted_boundary() -> list[Spec]:
    """Defect 6: boundary=----=_NextPart_... without quotes (Outlook 2003 / Outlook Express)."""
    inner_b = "----=_NextPart_001_0013_01D9A3B4.5C6D7E80"
    outer_b = "----=_NextPart_000_0012_01D9A3B4.5C6D7E80"
    alt = alternative(
        "Sehr geehrter Kunde,\nanbei das Angebot.\n",
        "<html><body><p>Sehr geehrter Kunde,</p><p>anbei das <i>Angebot</i>.</p></body></html>\n",
        charset="iso-8859-1",
        boundary=inner_b,
        param=f"multipart/alternative;\n\tboundary={inner_b}",
    )
    mixed = multipart(
        "mixed",
        [alt, file(PDF, "application/pdf", name="Angebot.pdf")],
        boundary=outer_b,
        param=f"multipart/mixed;\n\tboundary={outer_b}",
        preamble=b"This is a multi-part message in MIME format.\n\n",
    )
    fields = headers(
        "Angebot",
        message_id="000001d9a3b4$5c6d7e80$0200a8c0@PC01",
        extra=[
            ("X-Mailer", "Microsoft Office Outlook 11"),
            ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.5931"),
        ],
    )
    raw1, exp1 = message(fields, mixed)
    single = alternative(
        "Nur Text.\n",
        "<html><body>Nur <b>Text</b>.</body></html>",
        charset="windows-1252",
        boundary="----=_NextPart_000_0000_01DA0B1C.2D3E4F50",
        param="multipart/alternative; boundary=----=_NextPart_000_0000_01DA0B1C.2D3E4F50",
    )
    return [
        Spec(
            "d06-outlook2003-unquoted-nextpart",
            raw1,
            exp1,
            "Outlook 2003 (MimeOLE): nested multipart with unquoted boundary=----=_NextPart_... parameters on folded lines.",
            "unquoted boundary containing '='",
            "Angebot",
            defects=(6,),
        ),
        mail(
            "d06-outlook-express-unquoted",
            "Kurz",
            single,
            message_id="d06b@bank.example",
            extra=[("X-Mailer", "Microsoft Outlook Express 6.00.2900.5512")],
            source="Outlook Express 6: multipart/alternative with the unquoted boundary on the same line.",
            exercises="unquoted boundary on one line",
            defects=(6,),
        ),
        mail(
            "d06-unquoted-subject-trigger",
            "WebCrypt Angebot",
            mixed,
            message_id="d06c@bank.example",
            source="The Outlook 2003 shape with the trigger word in the Subject.",
            exercises="unquoted boundary in a subject-triggered message",
            subject_after="Angebot",
            defects=(6,),
        ),
    ]


def inline_text() -> list[Spec]:
    """Defect 7: text parts marked Content-Disposition: inline."""
    jpeg = (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + bytes(range(256))
        + b"\xff\xd9"
    )
    apple = multipart(
        "mixed",
        [
            text(
                "Hier das Foto vom Termin:\n", cte="7bit", charset="us-ascii", disposition="inline"
            ),
            file(jpeg, "image/jpeg", name="IMG_0042.jpg", disposition="inline"),
            text(
                "\nUnd hier noch der Rest der Nachricht.\nBerta\n",
                cte="7bit",
                charset="us-ascii",
                disposition="inline",
            ),
        ],
        boundary="Apple-Mail=_0E6C1B2A-3D4F-4A5B-9C8D-7E6F5A4B3C2D",
    )
    k9 = multipart(
        "mixed",
        [
            text("Siehe unten.\n", disposition="inline"),
            text("Weitere Angaben im zweiten Textteil.\n", disposition="inline"),
        ],
        boundary="----K9-Mail-0123456789",
    )
    return [
        mail(
            "d07-apple-mail-inline-texts",
            "Foto",
            apple,
            message_id="d07a@bank.example",
            extra=[("X-Mailer", "Apple Mail (2.3774.500.171.1.1)")],
            source="Apple Mail: text, inline image, text — every piece Content-Disposition: inline.",
            exercises="inline text parts around an inline image",
            defects=(7,),
        ),
        mail(
            "d07-inline-single-text",
            "Notiz",
            text("Eine Notiz als inline markierter Text.\n", disposition="inline"),
            message_id="d07b@bank.example",
            source="Mutt with 'Content-Disposition: inline' on the only body part.",
            exercises="inline disposition on a single text part",
            defects=(7,),
        ),
        mail(
            "d07-k9-two-inline-texts",
            "Zwei Teile",
            k9,
            message_id="d07c@bank.example",
            extra=[("User-Agent", "K-9 Mail for Android")],
            source="K-9 Mail (Android) with a signature block as a second inline text part.",
            exercises="two inline text/plain parts",
            defects=(7, 4),
        ),
    ]


def charset_garbage() -> list[Spec]:
    """Defect 8: NUL and garbage in charset= parameters."""
    utf8 = "Grüße aus München – 10 €\n"
    latin = "Grüße aus Köln, Änderung bestätigt.\n"
    cases: list[tuple[str, bytes, bytes, str, str]] = [
        (
            "d08-charset-nul",
            b'text/plain; charset="utf-8\x00"',
            utf8.encode(),
            utf8,
            "A broken web form mailer that wrote a C string with its terminator.",
        ),
        (
            "d08-charset-only-nul",
            b"text/plain; charset=\x00",
            latin.encode("latin-1"),
            latin,
            "Corrupted header from a faulty virus scanner rewrite.",
        ),
        (
            "d08-charset-garbage-latin1",
            b'text/plain; charset="\xff\xfe\x9b garbage"',
            latin.encode("latin-1"),
            latin,
            "Header damaged in transit (seen in list archives).",
        ),
        (
            "d08-charset-unknown-name",
            b"text/plain; charset=x-unknown-8bit",
            latin.encode("cp1252"),
            latin,
            "Mutt's x-unknown when it could not tell the charset.",
        ),
        (
            "d08-charset-double-encoded",
            b'text/plain; charset="3D=22utf-8=22"',
            utf8.encode(),
            utf8,
            "A header that went through quoted-printable twice (web mailer bug, list archives).",
        ),
        (
            "d08-charset-empty",
            b'text/plain; charset=""',
            utf8.encode(),
            utf8,
            "Empty charset from a PHP script.",
        ),
        (
            "d08-charset-utf7-with-junk",
            b'text/plain; charset="unicode-1-1-utf-7; format"',
            b"Hallo +AOQ- Welt\n",
            "Hallo +AOQ- Welt\n",
            "Old Outlook Express UTF-7 with a stray parameter glued to the name.",
        ),
    ]
    out = []
    for index, (name, ctype, body, shown, source) in enumerate(cases):
        fields = headers("Zeichensatz", message_id=f"d08-{index}@bank.example")
        raw = (
            header_block(fields, CRLF)
            + header_block([("Content-Type", ctype), ("Content-Transfer-Encoding", "8bit")], CRLF)
            + CRLF
            + body.replace(b"\n", b"\r\n")
        )
        out.append(
            Spec(
                name,
                raw,
                [Shown(shown)],
                source,
                "unusable charset parameter: decoding falls back (UTF-8, message charset, windows-1252)",
                "Zeichensatz",
                defects=(8,),
            )
        )
    part_garbage = multipart(
        "mixed",
        [
            text("Erster Teil, in Ordnung.\n"),
            file(b"col1;col2\n1;2\n", "text/csv", name="daten.csv", cte="base64", extra=None),
        ],
        boundary="nul-b-1",
    )
    raw, exp = message(headers("Anhang", message_id="d08x@bank.example"), part_garbage)
    raw = raw.replace(
        b'Content-Type: text/csv; name="daten.csv"',
        b'Content-Type: text/csv; charset="\x00\x01"; name="daten.csv"',
    )
    out.append(
        Spec(
            "d08-attachment-charset-nul",
            raw,
            exp,
            "CSV export of an accounting package with a NUL-damaged charset parameter.",
            "NUL charset on an attachment",
            "Anhang",
            defects=(8,),
        )
    )
    return out


def long_subject() -> list[Spec]:
    """Defect 9: a Subject over 998 octets without any space."""
    token = "".join(f"{i:04d}ABCDEFGHIJ" for i in range(80))  # 1120 characters
    long_ew = ew_b("Ü" * 400, "UTF-8")
    return [
        mail(
            "d09-subject-1120-octets-no-space",
            f"Referenz:{token}",
            text("Siehe Betreff.\n", cte="7bit", charset="us-ascii"),
            message_id="d09a@bank.example",
            source="A ticket system that puts a tracking token in the Subject without spaces.",
            exercises="Subject longer than 998 octets on one line",
            defects=(9,),
            tags=("long-header",),
        ),
        mail(
            "d09-subject-trigger-1120-octets",
            f"WebCrypt {token}",
            text("Siehe Betreff.\n", cte="7bit", charset="us-ascii"),
            message_id="d09b@bank.example",
            source="The ticket system shape with the trigger word.",
            exercises="the carrier's Subject must be folded",
            subject_after=token,
            defects=(9,),
            tags=("long-header",),
        ),
        mail(
            "d09-subject-one-long-encoded-word",
            long_ew,
            text("Langer Betreff.\n", cte="7bit", charset="us-ascii"),
            message_id="d09c@bank.example",
            source="A script that B-encodes a whole long subject in one encoded word (over 75 characters, against RFC 2047).",
            exercises="one overlong encoded word",
            decoded="Ü" * 400,
            defects=(9, 3),
            tags=("long-header",),
        ),
    ]


def deep_nesting() -> list[Spec]:
    """Defect 10: 300 levels of nested multiparts (and of attached messages)."""
    part = text("Ganz innen.\n", cte="7bit", charset="us-ascii")
    for level in range(300):
        part = multipart("mixed", [part], boundary=f"lvl{level:03d}")
    inner = b"Subject: innen\r\nContent-Type: text/plain\r\n\r\nInnerste Nachricht.\r\n"
    for level in range(300):
        inner = f"Subject: Ebene {level}\r\nContent-Type: message/rfc822\r\n\r\n".encode() + inner
    raw2 = (
        header_block(
            headers("Verschachtelte Weiterleitungen", message_id="d10b@bank.example", mime=True),
            CRLF,
        )
        + b'Content-Type: multipart/mixed; boundary="fw"\r\n\r\n--fw\r\nContent-Type: text/plain\r\n\r\nWeiterleitungskette.\r\n--fw\r\nContent-Type: message/rfc822\r\n\r\n'
        + inner
        + b"\r\n--fw--\r\n"
    )
    exp2 = [Shown("Weiterleitungskette.\n"), Download(inner, "message/rfc822")]
    return [
        mail(
            "d10-nested-300-multiparts",
            "Tief verschachtelt",
            part,
            message_id="d10a@bank.example",
            source="Generated: 300 levels of multipart/mixed, the shape of a mail loop between two auto-forwarders wrapping each other's mail.",
            exercises="nesting depth far beyond the portal's recursion",
            defects=(10,),
            tags=("limits",),
        ),
        Spec(
            "d10-nested-300-forwards",
            raw2,
            exp2,
            "Generated: 300 message/rfc822 levels, an auto-responder loop forwarding as attachment.",
            "deep message/rfc822 nesting",
            "Verschachtelte Weiterleitungen",
            defects=(10,),
            tags=("limits",),
        ),
    ]


def no_blank_line() -> list[Spec]:
    """Defect 11: no blank line between the header block and the body."""
    fields = [
        ("From", f"Berta Berater <{ADVISER}>"),
        ("To", CUSTOMER),
        ("Date", "Mon, 23 Nov 2026 09:00:00 +0100"),
        ("Message-ID", "<d11a@bank.example>"),
        ("Subject", "Kontostand"),
    ]
    raw1 = (
        header_block(fields, CRLF)
        + b"Ihr Kontostand betraegt 1.234,56 EUR.\r\nZweite Zeile des Textes.\r\n"
    )
    fields_t = [
        *fields[:3],
        ("Message-ID", "<d11b@bank.example>"),
        ("Subject", "WebCrypt Kontostand"),
    ]
    raw2 = (
        header_block(fields_t, CRLF)
        + b"Vertraulicher Kontostand 9.876,54 EUR.\r\nZweite vertrauliche Zeile.\r\n"
    )
    fields_m = [
        *fields[:3],
        ("Message-ID", "<d11c@bank.example>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Subject", "Kurzmitteilung"),
    ]
    raw3 = header_block(fields_m, LF) + "Bitte rufen Sie zurück.\nDanke.\n".encode()
    return [
        Spec(
            "d11-no-blank-line",
            raw1,
            [Shown("Ihr Kontostand betraegt 1.234,56 EUR.\nZweite Zeile des Textes.\n")],
            "A 1990s banking host's mail-out (and some monitoring scripts) writing the body right after the last header.",
            "body directly after the headers; Subject is the last field",
            "Kontostand",
            defects=(11,),
        ),
        Spec(
            "d11-no-blank-line-subject-trigger",
            raw2,
            [Shown("Vertraulicher Kontostand 9.876,54 EUR.\nZweite vertrauliche Zeile.\n")],
            "The same shape with the trigger word: the filter must not lose the body when it rewrites the Subject.",
            "body after the Subject without blank line, Subject rewritten",
            "WebCrypt Kontostand",
            subject_after="Kontostand",
            trigger="subject",
            defects=(11, 2),
        ),
        Spec(
            "d11-no-blank-line-lf-mime",
            raw3,
            [Shown("Bitte rufen Sie zurück.\nDanke.\n")],
            "A cron job's sendmail -t pipe with LF line ends and MIME fields but no separator.",
            "no separator, LF line ends, UTF-8 body",
            "Kurzmitteilung",
            defects=(11,),
        ),
    ]


def eight_bit_names() -> list[Spec]:
    """Defect 12: raw 8-bit bytes in a part's name= and filename=."""
    out = []
    cases = [
        (
            "d12-latin1-filename",
            b"\xdcbersicht M\xe4rz.pdf",
            "Outlook 2007 with 'allow 8-bit in headers': raw Latin-1 in name= and filename=.",
        ),
        (
            "d12-utf8-filename",
            "Übersicht März – Entwurf.pdf".encode(),
            "Apple Mail / iOS Mail: raw UTF-8 in name= (RFC 6532 style) instead of RFC 2231.",
        ),
        (
            "d12-cp1252-quotes-filename",
            b"\x93Vertrag\x94 \x96 final.pdf",
            "A Word macro that mails documents: windows-1252 quotes in the name.",
        ),
    ]
    for index, (name, filename, source) in enumerate(cases):
        body = multipart(
            "mixed",
            [text("Anbei die Datei.\n"), file(PDF, "application/pdf", name=filename)],
            boundary=f"name-b-{index}",
        )
        out.append(
            mail(
                name,
                "Datei",
                body,
                message_id=f"d12-{index}@bank.example",
                source=source,
                exercises="8-bit bytes in Content-Type name= and Content-Disposition filename=",
                defects=(12,),
            )
        )
    odd = [
        (
            "d12-unquoted-8bit-name",
            b"application/pdf;name=\xdcbersicht.pdf",
            "A fax-to-mail gateway writing name= unquoted with a raw Latin-1 byte and no Content-Disposition.",
        ),
        (
            "d12-8bit-in-media-type",
            b'application/pdf\xe9; name="beleg.pdf"',
            "A mutated header from fuzzing: an 8-bit byte inside the media type itself.",
        ),
        (
            "d12-nbsp-before-name",
            b'application/octet-stream;\xa0name="Datei.bin"',
            "Word-to-mail macros: a no-break space (0xA0) copied in front of name=.",
        ),
    ]
    for index, (name, ctype, source) in enumerate(odd):
        body = multipart(
            "mixed",
            [text("Anbei die Datei.\n"), file(PDF, "application/pdf")],
            boundary=f"odd-b-{index}",
        )
        raw, exp = message(headers("Datei", message_id=f"d12-odd-{index}@bank.example"), body)
        raw = raw.replace(
            b"Content-Type: application/pdf\r\n", b"Content-Type: " + ctype + b"\r\n", 1
        )
        exp = [
            e
            if not isinstance(e, Download)
            else Download(e.data, ctype.split(b";")[0].decode("latin-1"))
            for e in exp
        ]
        out.append(
            Spec(
                name,
                raw,
                exp,
                source,
                "8-bit bytes in a part's Content-Type reach the download's HTTP header",
                "Datei",
                defects=(12,),
            )
        )
    return out


def specs() -> list[Spec]:
    """The defect-class shapes."""
    return [
        *eight_bit_headers(),
        *bare_cr(),
        *encoded_word_subjects(),
        *text_beside_html(),
        *message_subtypes(),
        *unquoted_boundary(),
        *inline_text(),
        *charset_garbage(),
        *long_subject(),
        *deep_nesting(),
        *no_blank_line(),
        *eight_bit_names(),
    ]
